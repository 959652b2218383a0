"""The demo shop's catalogue: a coffee & tea shop with ~210 products in 12 categories.

Prices are in EUR. `PRODUCT_AFFINITIES` are the bundles customers really buy
together; the generator makes them co-occur so basket-rule mining must find them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, kw_only=True, slots=True)
class Product:
    sku: str
    name: str
    category: str
    price: Decimal


def _build() -> tuple[Product, ...]:
    products: list[Product] = []

    def add(prefix: str, category: str, name: str, price: str) -> None:
        products.append(
            Product(
                sku=f"{prefix}-{len(products) + 1:04d}",
                name=name,
                category=category,
                price=Decimal(price),
            )
        )

    origins = [
        ("Ethiopia Yirgacheffe", "12.90"),
        ("Kenya AA", "13.90"),
        ("Colombia Huila", "11.50"),
        ("Guatemala Antigua", "11.90"),
        ("Brazil Cerrado", "9.90"),
        ("Sumatra Mandheling", "12.50"),
        ("Costa Rica Tarrazu", "12.90"),
        ("Rwanda Nyamasheke", "13.50"),
        ("Peru Cajamarca", "10.90"),
        ("Honduras Marcala", "10.50"),
    ]
    for origin, price in origins:
        p = Decimal(price)
        add("COF", "Single-Origin Coffee", f"{origin} Whole Bean 250g", str(p))
        add(
            "COF",
            "Single-Origin Coffee",
            f"{origin} Whole Bean 1kg",
            str((p * Decimal("3.4")).quantize(Decimal("0.10"))),
        )
        add("COF", "Single-Origin Coffee", f"{origin} Filter Ground 250g", str(p))
        add("COF", "Single-Origin Coffee", f"{origin} Espresso Ground 250g", str(p))
    for blend, price in [
        ("House Blend", "9.50"),
        ("Italian Roast", "9.90"),
        ("Morning Blend", "9.50"),
        ("Cold Brew Blend", "10.50"),
        ("Dark Velvet", "10.90"),
        ("Crema Espresso", "10.90"),
    ]:
        p = Decimal(price)
        add("BLD", "Blends & Espresso", f"{blend} Whole Bean 250g", str(p))
        add(
            "BLD",
            "Blends & Espresso",
            f"{blend} Whole Bean 1kg",
            str((p * Decimal("3.4")).quantize(Decimal("0.10"))),
        )
        add("BLD", "Blends & Espresso", f"{blend} Coarse Ground 250g", str(p))
        add("BLD", "Blends & Espresso", f"{blend} Espresso Ground 250g", str(p))
    for decaf in ["Swiss Water Decaf", "Decaf Colombia", "Decaf Espresso", "Decaf House"]:
        for size, price in [("250g", "10.90"), ("500g", "19.90"), ("1kg", "36.00")]:
            add("DEC", "Decaf", f"{decaf} {size}", price)
    teas = [
        "Sencha",
        "Gyokuro",
        "Dragon Well",
        "Assam",
        "Darjeeling First Flush",
        "Earl Grey",
        "English Breakfast",
        "Lapsang Souchong",
        "Tieguanyin Oolong",
        "Da Hong Pao",
        "Silver Needle",
        "White Peony",
        "Chamomile",
        "Peppermint",
        "Rooibos Vanilla",
        "Hibiscus Berry",
    ]
    for index, tea in enumerate(teas):
        base = Decimal("5.50") + Decimal(index % 5)
        for size, factor in [("50g", "1"), ("100g", "1.8"), ("250g", "4")]:
            add(
                "TEA",
                "Loose Leaf Tea",
                f"{tea} {size}",
                str((base * Decimal(factor)).quantize(Decimal("0.10"))),
            )
    for bag in [
        "Earl Grey",
        "English Breakfast",
        "Green Sencha",
        "Peppermint",
        "Chamomile",
        "Rooibos",
        "Jasmine Green",
        "Lemon Ginger",
        "Chai Spice",
        "Berry Blast",
    ]:
        add("BAG", "Tea Bags", f"{bag} Tea Bags (20)", "4.90")
    for item, price in [
        ("Ceremonial Matcha 30g", "24.00"),
        ("Culinary Matcha 100g", "16.00"),
        ("Chai Masala 100g", "8.50"),
        ("Chai Latte Powder 250g", "9.90"),
        ("Hojicha Powder 50g", "12.00"),
        ("Golden Latte Turmeric 100g", "8.90"),
        ("Matcha Latte Mix 200g", "13.50"),
        ("Dirty Chai Blend 250g", "11.50"),
    ]:
        add("MAT", "Matcha & Chai", item, price)
    for item, price in [
        ("French Press 350ml", "24.00"),
        ("French Press 1l", "34.00"),
        ("Hario V60 Dripper", "22.00"),
        ("Chemex 6-Cup", "49.00"),
        ("AeroPress", "39.00"),
        ("Moka Pot 3-Cup", "29.00"),
        ("Moka Pot 6-Cup", "36.00"),
        ("Cold Brew Bottle", "27.00"),
        ("Pour-Over Kettle", "45.00"),
        ("Siphon Brewer", "79.00"),
        ("Clever Dripper", "25.00"),
        ("Kalita Wave 185", "32.00"),
    ]:
        add("BRW", "Brewing Equipment", item, price)
    for item, price in [
        ("Hand Grinder", "59.00"),
        ("Burr Grinder Pro", "189.00"),
        ("Blade Grinder", "29.00"),
        ("Travel Grinder", "45.00"),
        ("Conical Burr Grinder", "129.00"),
    ]:
        add("GRD", "Grinders", item, price)
    for item, price in [
        ("V60 Paper Filters (100)", "6.50"),
        ("Chemex Filters (100)", "11.00"),
        ("AeroPress Filters (350)", "6.00"),
        ("Kalita Filters (100)", "7.50"),
        ("Coffee Scale", "35.00"),
        ("Milk Frother", "19.00"),
        ("Espresso Tamper", "25.00"),
        ("Knock Box", "22.00"),
        ("Cleaning Tablets", "9.00"),
        ("Descaler", "8.00"),
        ("Milk Thermometer", "12.00"),
        ("Dosing Cup", "14.00"),
    ]:
        add("ACC", "Filters & Accessories", item, price)
    for item, price in [
        ("Glass Teapot", "29.00"),
        ("Cast Iron Teapot", "49.00"),
        ("Gaiwan", "19.00"),
        ("Tea Infuser", "7.50"),
        ("Matcha Whisk (Chasen)", "18.00"),
        ("Matcha Bowl", "24.00"),
        ("Tea Strainer", "6.50"),
        ("Teacup Set of 2", "22.00"),
        ("Kyusu Teapot", "39.00"),
        ("Tea Caddy", "14.00"),
        ("Bamboo Tea Scoop", "6.00"),
        ("Tea Timer", "9.00"),
    ]:
        add("TWR", "Teaware", item, price)
    for color in ["Sand", "Slate", "Sage", "Terracotta", "Ink Blue", "Cream"]:
        add("MUG", "Mugs & Cups", f"Stoneware Mug {color}", "16.00")
        add("MUG", "Mugs & Cups", f"Travel Mug {color}", "24.00")
        add("MUG", "Mugs & Cups", f"Espresso Cup {color}", "9.50")
        add("MUG", "Mugs & Cups", f"Latte Bowl {color}", "18.00")
    for item, price in [
        ("Almond Biscotti", "5.50"),
        ("Chocolate Biscotti", "5.50"),
        ("Dark Chocolate 70%", "4.50"),
        ("Stroopwafels (8)", "4.90"),
        ("Wildflower Honey Jar", "8.50"),
        ("Gift Card 25", "25.00"),
        ("Gift Card 50", "50.00"),
        ("Coffee Lovers Gift Box", "39.00"),
        ("Tea Time Gift Box", "35.00"),
        ("Vanilla Syrup", "7.90"),
        ("Caramel Syrup", "7.90"),
        ("Hazelnut Syrup", "7.90"),
    ]:
        add("GFT", "Snacks & Gifts", item, price)
    return tuple(products)


PRODUCTS: tuple[Product, ...] = _build()
PRODUCTS_BY_NAME: dict[str, Product] = {p.name: p for p in PRODUCTS}
CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(p.category for p in PRODUCTS))

# Bundles people really buy together (product names). Each is added whole to a
# share of orders, so {antecedent} -> {consequent} rules have high lift.
PRODUCT_AFFINITIES: tuple[tuple[str, ...], ...] = (
    ("French Press 1l", "House Blend Coarse Ground 250g"),
    ("Hario V60 Dripper", "V60 Paper Filters (100)", "Ethiopia Yirgacheffe Filter Ground 250g"),
    ("AeroPress", "AeroPress Filters (350)"),
    ("Chemex 6-Cup", "Chemex Filters (100)"),
    ("Matcha Whisk (Chasen)", "Ceremonial Matcha 30g", "Matcha Bowl"),
    ("Moka Pot 3-Cup", "Italian Roast Espresso Ground 250g"),
    ("Glass Teapot", "Tea Strainer", "Earl Grey 100g"),
    ("Cold Brew Bottle", "Cold Brew Blend Coarse Ground 250g"),
    ("Burr Grinder Pro", "Colombia Huila Whole Bean 1kg"),
    ("Milk Frother", "Vanilla Syrup"),
)

assert all(name in PRODUCTS_BY_NAME for bundle in PRODUCT_AFFINITIES for name in bundle)
