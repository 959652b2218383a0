"""factory_boy factories for the ingest models (shared by every app's tests)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import factory

from ingest.models import Customer, Order, OrderLine, Product


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    key = factory.LazyAttribute(lambda o: o.email or f"id:{o.shop_customer_id}")
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = "Buyer"
    accepts_marketing = True


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n}")
    name = factory.Sequence(lambda n: f"Product {n}")
    category = "Coffee"


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    customer = factory.SubFactory(CustomerFactory)
    order_key = factory.Sequence(lambda n: f"#{1000 + n}")
    ordered_at = factory.LazyFunction(lambda: datetime(2026, 10, 1, 12, tzinfo=UTC))
    gross_total = Decimal("50.00")
    net_total = Decimal("50.00")


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = 1
    unit_price = Decimal("50.00")
    line_total = Decimal("50.00")


def make_order(customer: Customer, when: datetime, lines: list[tuple[Product, int, str]],
               *, key: str | None = None) -> Order:
    """An order with lines (product, quantity, unit price) and consistent totals."""
    total = sum(Decimal(price) * qty for _p, qty, price in lines)
    order = OrderFactory(customer=customer, ordered_at=when, gross_total=total, net_total=total,
                         **({"order_key": key} if key else {}))
    for product, qty, price in lines:
        OrderLineFactory(order=order, product=product, quantity=qty, unit_price=Decimal(price),
                         line_total=Decimal(price) * qty, is_return=qty < 0)
    return order


def make_return_order(customer: Customer, when: datetime, amount: str = "30.00") -> Order:
    """A return or refund exported as an order of its own: nothing bought, money back."""
    return OrderFactory(customer=customer, ordered_at=when, gross_total=Decimal(0),
                        returned_total=Decimal(amount), net_total=-Decimal(amount))


def make_free_order(customer: Customer, when: datetime) -> Order:
    """An order of 0.00: nothing paid, nothing returned."""
    return OrderFactory(customer=customer, ordered_at=when, gross_total=Decimal(0),
                        net_total=Decimal(0))
