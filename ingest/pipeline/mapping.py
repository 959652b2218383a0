"""Column mapping: which file column feeds which canonical field.

`propose_mapping` recognises known exports (presets) and header synonyms in
several languages; the owner confirms or edits the proposal, and the app can
remember it per `header_fingerprint`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ingest.pipeline.errors import Reason, RowError, gettext_noop
from ingest.pipeline.headers import clean_headers, normalise_header
from ingest.pipeline.parsing import parse_email, parse_money

FIELDS: tuple[str, ...] = (
    "customer_email",
    "customer_id",
    "customer_name",
    "first_name",
    "last_name",
    "order_id",
    "ordered_at",
    "product_sku",
    "product_name",
    "category",
    "quantity",
    "unit_price",
    "line_total",
    "order_total",
    "currency",
    "country",
    "city",
    "accepts_marketing",
    "cancelled_at",
    "refunded_amount",
    "financial_status",
    "gender",
    "birth_year",
)

# Listed most specific first; matching is on `normalise_header` keys.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "customer_email": (
        "customeremail",
        "email",
        "emailaddress",
        "mail",
        "billingemail",
        "buyeremail",
        "contactemail",  # Wix
        "courriel",
        "adresseemail",
        "correo",
        "correoelectronico",
        "emailadresse",
        "邮箱",
        "电子邮件",
        "电子邮箱",
        "邮件",
        "邮箱地址",
    ),
    "customer_id": (
        "customerid",
        "customerno",
        "customernumber",
        "clientid",
        "userid",
        "buyerid",
        "kundennummer",
        "kundenid",
        "kundennr",
        "idclient",
        "numeroclient",
        "idcliente",
        "clienteid",
        "客户id",
        "客户编号",
        "客户号",
        "customer",
        "client",
        "kunde",
        "cliente",
        "客户",
    ),
    "customer_name": (
        "customername",
        "fullname",
        "billingname",
        "clientname",
        "name",
        "kundenname",
        "nomclient",
        "nomcomplet",
        "nombrecliente",
        "nombrecompleto",
        "客户名称",
        "客户姓名",
        "姓名",
        "名字",
    ),
    "first_name": (
        "firstname",
        "givenname",
        "billingfirstname",
        "vorname",
        "prenom",
        "nombre",
        "名",
    ),
    "last_name": (
        "lastname",
        "surname",
        "familyname",
        "billinglastname",
        "nachname",
        "nomdefamille",
        "apellido",
        "apellidos",
        "nom",
        "姓",
    ),
    "order_id": (
        "orderid",
        "ordernumber",
        "orderno",
        "ordernr",
        "order",
        "invoiceno",
        "invoicenumber",
        "invoice",
        "invoiceid",
        "transactionid",
        "receiptno",
        "bestellnummer",
        "bestellnr",
        "bestellung",
        "numerodecommande",
        "n° de commande",  # "N°" folds to "n"
        "n° commande",
        "commande",
        "numeropedido",
        "pedido",
        "订单号",
        "订单编号",
        "订单id",
        "订单",
    ),
    "ordered_at": (
        "orderedat",
        "orderdate",
        "createdat",
        "datecreated",  # Wix, next to a "Time" column of its own
        "saledate",  # Etsy
        "purchasedate",
        "invoicedate",
        "transactiondate",
        "datetime",
        "timestamp",
        "date",
        "time",
        "bestelldatum",
        "datum",
        "datedecommande",
        "date_commande",
        "fechapedido",
        "fechadepedido",
        "fecha",
        "下单时间",
        "订单日期",
        "订单时间",
        "购买日期",
        "日期",
        "时间",
    ),
    "product_sku": (
        "productsku",
        "sku",
        "lineitemsku",
        "itemsku",
        "stockcode",
        "productcode",
        "itemcode",
        "productid",
        "articlenumber",
        "artikelnummer",
        "artikelnr",
        "reference",
        "referencia",
        "商品编号",
        "货号",
        "商品编码",
    ),
    "product_name": (
        "productname",
        "lineitemname",  # Shopify's column names, also written by Squarespace
        "product",
        "itemname",
        "item",
        "description",
        "title",
        "producttitle",
        "artikelname",
        "artikel",
        "produkt",
        "bezeichnung",
        "nomduproduit",
        "produit",
        "nombredelproducto",
        "producto",
        "articulo",
        "商品名称",
        "商品",
        "产品名称",
        "产品",
        "品名",
    ),
    "category": (
        "category",
        "productcategory",
        "producttype",
        "kategorie",
        "categorie",
        "categoria",
        "类别",
        "分类",
        "品类",
        "商品类别",
    ),
    "quantity": (
        "quantity",
        "qty",
        "lineitemquantity",
        "units",
        "itemquantity",
        "numberofcds",  # the CDNOW purchase log
        "menge",
        "anzahl",
        "quantite",
        "cantidad",
        "数量",
        "购买数量",
    ),
    "unit_price": (
        "unitprice",
        "price",
        "lineitemprice",
        "itemprice",
        "priceeach",
        "itemcost",
        "einzelpreis",
        "stückpreis",
        "stuckpreis",
        "preis",
        "prixunitaire",
        "prix",
        "preciounitario",
        "precio",
        "单价",
        "价格",
    ),
    "line_total": (
        "linetotal",
        "itemtotal",
        "lineamount",
        "amount",
        "sales",
        "revenue",
        "dollarvalue",  # CDNOW
        "betrag",
        "montant",
        "importe",
        "金额",
        "小计",
        "商品金额",
    ),
    "order_total": (
        "ordertotal",
        "total",
        "grandtotal",
        "grandtotalpurchased",  # Magento's order grid: in the order's own currency
        "grandtotalbase",
        "ordertotalinctax",  # BigCommerce: what the customer paid
        "totalamount",
        "gesamtbetrag",
        "gesamtsumme",
        "totalcommande",
        "totalpedido",
        "订单金额",
        "总金额",
        "总计",
        "合计",
    ),
    "currency": (
        "currency",
        "currencycode",
        "ordercurrency",
        "wahrung",
        "devise",
        "moneda",
        "币种",
        "货币",
    ),
    "country": (
        "country",
        "billingcountry",
        "shippingcountry",
        "countrycode",
        "land",
        "pays",
        "pais",
        "国家",
        "国家地区",
    ),
    "city": (
        "city",
        "billingcity",
        "shippingcity",
        "town",
        "stadt",
        "ort",
        "ville",
        "ciudad",
        "城市",
    ),
    "accepts_marketing": (
        "acceptsmarketing",
        "acceptsemailmarketing",
        "marketingoptin",
        "emailoptin",
        "marketingconsent",
        "optin",
        "newsletter",
        "subscribed",
        "newsletterabonniert",
    ),
    "cancelled_at": (
        "cancelledat",
        "canceledat",
        "cancellationdate",
        "cancelled",
        "canceled",
        "storniertam",
    ),
    "refunded_amount": (
        "refundedamount",
        "refundamount",
        "amountrefunded",
        "totalrefunded",
        "refundedtotal",  # WooCommerce order exports
        # not "refunded": Gumroad's "Refunded?" is a yes/no (0/1), not an amount
        "refund",
        "refunds",
        "erstattung",
        "退款金额",
    ),
    "financial_status": (
        "financialstatus",
        "paymentstatus",
        "orderstatus",
        "status",
        "zahlungsstatus",
        "订单状态",
    ),
    "gender": ("gender", "sex", "geschlecht", "sexe", "sexo", "性别"),
    "birth_year": (
        "birthyear",
        "yearofbirth",
        "geburtsjahr",
        "anneedenaissance",
        "anodenacimiento",
        "出生年份",
    ),
}


@dataclass(frozen=True, kw_only=True, slots=True)
class RowKind:
    """What one row of a file that mixes order lines with other rows is (`Preset.row_kind`)."""

    # Why the row is no order line, as the import report names it (PayPal's own type,
    # "General Withdrawal"); "" when it is one and is read.
    left_out: str = ""
    # Money the shop paid back to a customer: read as a return of its own (negative).
    refund: bool = False
    # Cells read instead of the mapped ones: the customer of a PayPal refund is the one
    # it was paid to, not its payer (the shop).
    cells: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class Preset:
    """A known export format: how to recognise it and how its rows behave."""

    name: str
    # Normalised headers that must all be present to recognise the preset.
    signature: frozenset[str]
    columns: Mapping[str, tuple[str, ...]]
    # Shopify writes order-level fields only on an order's first line item.
    forward_fill_orders: bool = False
    # UCI Online Retail marks credit notes (cancellations) with a leading "C".
    cancel_prefix: str | None = None
    dayfirst: bool | None = None
    # Fields left unmapped even where a generic synonym matches a column: a payments
    # export's "Description" names the payment, not a product.
    unmapped: frozenset[str] = frozenset()
    # The line amounts are already net of refunds: a "Refunded" order's lines are 0, and
    # it stays a purchase whose money came back (not a cancellation).
    refunds_in_lines: bool = False
    # A file that mixes order lines with other rows (PayPal's withdrawals, eBay's order
    # summaries): `row_kind` is given a row's cells named in `kind_reads` (mapped fields
    # by name, other columns as "@" + their normalised header, "" where the file has
    # none), after Shopify-style forward filling, and says what the row is.
    kind_reads: tuple[str, ...] = ()
    row_kind: Callable[[Mapping[str, str]], RowKind] | None = None
    # Lines the export writes below its table (eBay's "7 record(s) downloaded"), matched
    # on a line's text: counted as its footer, never refused as rows.
    footer: re.Pattern[str] | None = None


PRESETS: tuple[Preset, ...] = (
    Preset(
        name="shopify",
        signature=frozenset(
            {"name", "email", "financialstatus", "lineitemquantity", "lineitemprice"}
        ),
        columns={
            "order_id": ("name",),
            "customer_email": ("email",),
            "financial_status": ("financialstatus",),
            "ordered_at": ("createdat", "paidat"),
            "accepts_marketing": ("acceptsmarketing", "acceptsemailmarketing"),
            "currency": ("currency",),
            "order_total": ("total",),
            "quantity": ("lineitemquantity",),
            "product_name": ("lineitemname",),
            "unit_price": ("lineitemprice",),
            "product_sku": ("lineitemsku",),
            "customer_name": ("billingname", "shippingname"),
            "city": ("billingcity", "shippingcity"),
            "country": ("billingcountry", "shippingcountry"),
            "cancelled_at": ("cancelledat",),
            "refunded_amount": ("refundedamount",),
        },
        forward_fill_orders=True,
    ),
    Preset(
        name="uci_online_retail",
        signature=frozenset({"stockcode", "description", "quantity", "unitprice"}),
        columns={
            "order_id": ("invoiceno", "invoice"),
            "product_sku": ("stockcode",),
            "product_name": ("description",),
            "quantity": ("quantity",),
            "ordered_at": ("invoicedate",),
            "unit_price": ("unitprice", "price"),
            "customer_id": ("customerid",),
            "country": ("country",),
        },
        cancel_prefix="C",
        # "12/1/2010 8:26" is 1 December 2010: month first.
        dayfirst=False,
    ),
    Preset(
        name="uci_online_retail_ii",
        signature=frozenset({"invoice", "stockcode", "description", "price", "customerid"}),
        columns={
            "order_id": ("invoice",),
            "product_sku": ("stockcode",),
            "product_name": ("description",),
            "quantity": ("quantity",),
            "ordered_at": ("invoicedate",),
            "unit_price": ("price",),
            "customer_id": ("customerid",),
            "country": ("country",),
        },
        cancel_prefix="C",
        dayfirst=False,
    ),
    Preset(
        name="woocommerce",
        signature=frozenset({"billingemail", "ordertotal", "itemname"}),
        columns={
            "order_id": ("ordernumber", "orderid"),
            "ordered_at": ("orderdate", "date"),
            "financial_status": ("status", "orderstatus"),
            "order_total": ("ordertotal",),
            "currency": ("ordercurrency", "currency"),
            "customer_id": ("customerid", "customeruserid"),
            "first_name": ("billingfirstname",),
            "last_name": ("billinglastname",),
            "customer_email": ("billingemail",),
            "city": ("billingcity",),
            "country": ("billingcountry",),
            "product_name": ("itemname",),
            "product_sku": ("itemsku",),
            "quantity": ("itemquantity",),
            "line_total": ("itemtotal",),
            "refunded_amount": ("orderrefunded", "refundedtotal", "ordertotalrefunded"),
        },
    ),
    # Etsy's "Sold Order Items" download (Shop Manager > Settings > Options > Download
    # Data): one row per item. It has no email: the buyer's Etsy username is the customer.
    # "Item Total" is the item's price times quantity; the order's shipping, tax and
    # discount columns stay unmapped, as the Shopify preset counts the goods.
    Preset(
        name="etsy_sold_order_items",
        signature=frozenset({"saledate", "itemname", "buyer", "itemtotal", "transactionid"}),
        columns={
            "order_id": ("orderid",),
            "ordered_at": ("saledate",),
            "customer_id": ("buyer",),
            "customer_name": ("shipname",),
            "product_name": ("itemname",),
            "product_sku": ("sku",),
            "quantity": ("quantity",),
            "unit_price": ("price",),
            "line_total": ("itemtotal",),
            "currency": ("currency",),
            "city": ("shipcity",),
            "country": ("shipcountry",),
        },
        unmapped=frozenset({"order_total"}),
        dayfirst=False,  # "12/31/21": US dates
    ),
    # Etsy's "Sold Orders" download (same place as "Sold Order Items"): one row per order,
    # no products (its "SKU" cell lists them all, comma-separated). The buyer's username
    # is the customer, as in the items file. "Order Value" is the items' total before
    # discount, shipping and tax: the money the items file counts for the same order, so
    # importing both files agrees. It is taken as the order's total, which never adds to
    # lines an items file brought. Refunds ("Adjusted ..." columns) are not read.
    Preset(
        name="etsy_sold_orders",
        signature=frozenset({"saledate", "orderid", "buyeruserid", "ordervalue", "ordertotal"}),
        columns={
            "order_id": ("orderid",),
            "ordered_at": ("saledate",),
            "customer_id": ("buyer",),
            "customer_name": ("fullname",),
            "first_name": ("firstname",),
            "last_name": ("lastname",),
            "order_total": ("ordervalue",),
            "currency": ("currency",),
            "city": ("shipcity",),
            "country": ("shipcountry",),
        },
        unmapped=frozenset({"product_sku", "product_name", "line_total", "unit_price",
                            "refunded_amount"}),
        dayfirst=False,  # "12/31/21": US dates
    ),
    # Stripe's payments export (Dashboard > Payments > Export): one row per payment,
    # no products. "Amount" and "Amount Refunded" are in the payment's own currency, the
    # pair that always comes together. A failed payment counts nothing (its status
    # cancels it); refunds are netted. The date is "Created (UTC)" in older exports and
    # "Created date (UTC)" in the current one (unified_payments.csv), so the signature
    # names neither.
    Preset(
        name="stripe_payments",
        signature=frozenset({"id", "amount", "amountrefunded", "status"}),
        columns={
            "order_id": ("id",),
            "ordered_at": ("createdutc", "createddateutc"),
            "customer_email": ("customeremail",),
            "customer_id": ("customerid",),
            "line_total": ("amount",),
            "refunded_amount": ("amountrefunded",),
            "currency": ("currency",),
            "financial_status": ("status",),
        },
        unmapped=frozenset({"product_name", "product_sku", "customer_name", "order_total"}),
    ),
    # Square's "Item details" export (Reports > Item sales): one row per item sold.
    # "Net Sales" is after discounts and before tax; refunds are rows of their own with
    # negative amounts. A sale without a customer on file has no customer: refused.
    Preset(
        name="square_item_details",
        signature=frozenset({"date", "item", "qty", "grosssales", "netsales", "transactionid"}),
        columns={
            "order_id": ("transactionid",),
            "ordered_at": ("date",),
            "customer_id": ("customerid",),
            "customer_name": ("customername",),
            "product_name": ("item",),
            "product_sku": ("sku",),
            "category": ("category",),
            "quantity": ("qty",),
            "line_total": ("netsales",),
        },
        unmapped=frozenset({"unit_price", "order_total"}),
    ),
    # Square's "Transactions" export (Transactions > Export > Transactions CSV): one row per
    # payment or refund, no products ("Description" lists the items in words). "Net Sales"
    # is after discounts and before tax and tips, as in the item details; a refund is a
    # row of its own with negative amounts. A payment without a customer on file is refused.
    Preset(
        name="square_transactions",
        signature=frozenset(
            {"date", "time", "grosssales", "netsales", "totalcollected", "transactionid"}),
        columns={
            "order_id": ("transactionid",),
            "ordered_at": ("date",),
            "customer_id": ("customerid",),
            "customer_name": ("customername",),
            "line_total": ("netsales",),
        },
        unmapped=frozenset({"product_name", "product_sku", "unit_price", "order_total",
                            "quantity"}),
    ),
    # "Advanced Order Export For WooCommerce" (algolplus), default CSV: one row per item,
    # order fields repeated on every row, "(Billing)"/"(Shipping)" suffixes on customer fields.
    # Without the preset the generic synonyms take the product "Name" for the customer's
    # name and "Item #" for the product, and find no email at all.
    Preset(
        name="woocommerce_advanced_order_export",
        # "Email (Billing)" and "Order Line Total (- Refund)" are this plugin's own labels;
        # the rest are the columns the mapping below cannot do without.
        signature=frozenset(
            {"ordernumber", "orderdate", "emailbilling", "itemcost", "orderlinetotalrefund"}
        ),
        columns={
            "order_id": ("ordernumber",),
            "ordered_at": ("orderdate",),
            # "Completed", "Processing", "Refunded", "Cancelled"...: "cancelled" is a
            # cancellation like Shopify's "voided"; a refund is netted in the line money.
            "financial_status": ("orderstatus",),
            "customer_email": ("emailbilling",),
            "first_name": ("firstnamebilling", "firstnameshipping"),
            "last_name": ("lastnamebilling", "lastnameshipping"),
            "city": ("citybilling", "cityshipping"),
            "country": ("countrycodebilling", "countrycodeshipping"),
            "product_name": ("name",),
            "product_sku": ("sku",),
            # The Shopify preset counts the goods (line price x quantity; shipping left out)
            # and takes refunds off. This export has the refund per line, so "Order Line
            # Total (- Refund)" is that same figure: goods net of refunds, no shipping.
            # It is after coupons and without tax, as WooCommerce stores every line amount
            # even where prices are entered with VAT (no column here has tax and refunds
            # netted). "Order Refund Amount" stays unmapped: it is already in the line
            # figure, and it also holds refunded shipping and tax.
            "line_total": ("orderlinetotalrefund",),
            "unit_price": ("itemcost",),
            # The bought quantity: "Quantity (- Refund)" is 0 on a fully refunded line,
            # and a zero quantity is a rejected row.
            "quantity": ("quantity",),
            # Only used if a line has no amount; includes shipping and tax.
            "order_total": ("ordertotalamount",),
        },
        refunds_in_lines=True,
    ),
)

# Amazon Seller Central's order reports (tab-delimited). "item-price" is the line's
# price: "All amounts are aggregates of the quantity, not unit prices", so it is the
# line total, never a unit price. Shipping, tax and promotions are left out, as the
# Shopify preset counts the goods.
_AMAZON_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "ordered_at": ("purchasedate",),
    "customer_email": ("buyeremail",),
    "customer_name": ("buyername",),
    "product_sku": ("sku",),
    "product_name": ("productname",),
    "line_total": ("itemprice",),
    "currency": ("currency",),
    "city": ("shipcity",),
    "country": ("shipcountry",),
}
PRESETS = (
    *PRESETS,
    # The seller-fulfilled "Order Report": one row per item, with the buyer's email.
    Preset(
        name="amazon_order_report",
        signature=frozenset({"orderid", "orderitemid", "purchasedate", "quantitypurchased",
                             "itemprice"}),
        columns={**_AMAZON_COLUMNS, "order_id": ("orderid",), "quantity": ("quantitypurchased",)},
        unmapped=frozenset({"unit_price", "order_total"}),
    ),
    # "All Orders": one row per item. Amazon's own has no customer column (it is refused
    # until one is chosen); a "Cancelled" order status cancels the order.
    Preset(
        name="amazon_all_orders",
        signature=frozenset({"amazonorderid", "purchasedate", "orderstatus", "itemstatus",
                             "itemprice"}),
        columns={**_AMAZON_COLUMNS, "order_id": ("amazonorderid",), "quantity": ("quantity",),
                 "financial_status": ("orderstatus",)},
        unmapped=frozenset({"unit_price", "order_total"}),
    ),
)

def _amount_sign(text: str) -> int | None:
    """-1, 0 or 1 for an amount's text, whichever its decimal mark; None if it is no amount
    (the row is then read, and the cleaner refuses it with the reason)."""
    for decimal_comma in (False, True):
        try:
            value = parse_money(text, decimal_comma=decimal_comma).value
        except RowError:
            continue
        return None if value is None else (value > 0) - (value < 0)
    return None


# PayPal's activity download ("Activity" > "Download", All transactions / Balance
# affecting, CSV). It lists everything that moved the balance: the shop's sales beside
# withdrawals to its bank, currency conversions, holds and their releases, fees,
# payments the shop sent (the same types, with a negative Gross) and, for a cart, one
# "Shopping Cart Item" row per item under the payment's own Transaction ID. Only money
# a customer paid the shop for a sale is read: a sales type with a positive Gross. Its
# status may have become Refunded or Reversed since: the money came in, and what went
# back is a Payment Refund / Payment Reversal / Chargeback row of its own, read as a
# return (its own negative order, as Square's refunds), which is what keeps two
# overlapping downloads right. Pending, denied and other statuses never brought money.
# Types are PayPal's English words; a type not listed is left out and named in the
# import report, so a missing one shows there rather than inventing money.
_PAYPAL_SALES = frozenset({
    "express checkout payment", "website payment", "mobile payment", "general payment",
    "shopping cart payment", "shopping cart payment received", "web accept payment received",
    "subscription payment", "preapproved payment bill user payment", "ebay auction payment",
    "direct credit card payment",
})
_PAYPAL_SALE_STATUSES = frozenset({"completed", "refunded", "partially refunded", "reversed"})
_PAYPAL_REFUNDS = frozenset({"payment refund", "payment reversal", "chargeback"})
# The words the report adds to a type (translated where it is shown, see ingest.note_words).
MONEY_OUT = gettext_noop("money out")
MONEY_IN = gettext_noop("money in")
NO_MONEY = gettext_noop("no money")
NO_TYPE = gettext_noop("(no type)")


def _paypal_row_kind(cells: Mapping[str, str]) -> RowKind:
    kind = " ".join(cells["@type"].split())
    status = " ".join(cells["@status"].split())
    key, done = kind.casefold(), status.casefold()
    sign = _amount_sign(cells["line_total"])
    if key in _PAYPAL_SALES:
        if done not in _PAYPAL_SALE_STATUSES:
            return RowKind(left_out=f"{kind} ({status})")
        if sign is not None and sign <= 0:
            return RowKind(left_out=f"{kind} ({MONEY_OUT if sign else NO_MONEY})")
        return RowKind()
    if key in _PAYPAL_REFUNDS:
        if done != "completed":
            return RowKind(left_out=f"{kind} ({status})")
        if sign is not None and sign >= 0:
            return RowKind(left_out=f"{kind} ({MONEY_IN if sign else NO_MONEY})")
        # The shop paid it: "From" is the shop, the buyer is who it went "To".
        return RowKind(refund=True, cells={"customer_email": cells["@toemailaddress"]})
    return RowKind(left_out=kind or NO_TYPE)


# eBay's orders report (Seller Hub > Orders > Download report). A multi-item order is
# a summary line (buyer, order totals, no Item Number; its "Sold For" is its items'
# sum) above one line per item, whose buyer cells are blank: the items take the buyer
# from it (forward fill) and the summary is left out, or the order would count twice.
# An order without a "Paid On Date" was never paid. eBay hides most buyers' emails
# (blank, masked as "t***@gmail.com", or a relay address on members.ebay.com that is
# not the buyer's own): the buyer's username is then the customer.
EBAY_SUMMARY = gettext_noop("order summary line (its items are read)")
EBAY_UNPAID = gettext_noop("not paid")


def _ebay_row_kind(cells: Mapping[str, str]) -> RowKind:
    if not cells["@itemnumber"].strip():
        return RowKind(left_out=EBAY_SUMMARY)
    if not cells["@paidondate"].strip():
        return RowKind(left_out=EBAY_UNPAID)
    if _hidden_email(cells["customer_email"]):
        return RowKind(cells={"customer_email": ""})
    return RowKind()


def _hidden_email(text: str) -> bool:
    if not text.strip():
        return False
    try:
        address = parse_email(text).value
    except RowError:
        return True  # "Email hidden" and the like: no address at all
    return address is None or "*" in address or address.endswith("@members.ebay.com")


PRESETS = (
    *PRESETS,
    Preset(
        name="paypal_activity",
        # Fields the owner may leave out of the download aside, these are always there
        # ("TimeZone" is "Time Zone" in older downloads, so it is not asked for).
        signature=frozenset({"date", "type", "status", "gross", "fee", "net", "transactionid"}),
        columns={
            "order_id": ("transactionid",),
            "ordered_at": ("date",),
            "customer_email": ("fromemailaddress",),
            "customer_name": ("name",),
            # What the customer paid, with its shipping and tax (as Stripe's Amount); the
            # fee is the shop's cost of being paid, not the customer's spend.
            "line_total": ("gross",),
            "currency": ("currency",),
            "city": ("towncity",),
            "country": ("country", "countrycode"),
        },
        # "Status" is read by `row_kind`: as a payment status a refunded sale would count
        # 0 besides its refund row. "Item Title" is empty for cart payments and its
        # amount holds shipping and tax, so no product is taken; nor a quantity.
        unmapped=frozenset({"financial_status", "product_name", "product_sku", "quantity",
                            "unit_price", "order_total", "refunded_amount", "customer_id"}),
        kind_reads=("@type", "@status", "line_total", "@toemailaddress"),
        row_kind=_paypal_row_kind,
    ),
    Preset(
        name="ebay_orders",
        signature=frozenset({"salesrecordnumber", "buyerusername", "itemnumber", "soldfor",
                             "saledate", "paidondate"}),
        columns={
            "order_id": ("ordernumber", "salesrecordnumber"),
            "ordered_at": ("saledate",),
            "customer_email": ("buyeremail",),
            "customer_id": ("buyerusername",),
            "customer_name": ("buyername",),
            "product_name": ("itemtitle",),
            "product_sku": ("customlabel",),
            "quantity": ("quantity",),
            # The price of one item: eBay's Total Price is Sold For x Quantity plus
            # shipping and tax. Shipping and tax are left out, as for Shopify.
            "unit_price": ("soldfor",),
            "city": ("buyercity", "shiptocity"),
            "country": ("buyercountry", "shiptocountry"),
        },
        unmapped=frozenset({"line_total", "order_total", "financial_status", "refunded_amount",
                            "currency", "category"}),
        forward_fill_orders=True,
        kind_reads=("@itemnumber", "@paidondate", "customer_email"),
        row_kind=_ebay_row_kind,
        footer=re.compile(r"\W*(\d[\d,.]*\W*record\(s\) downloaded|seller id\s*:)", re.IGNORECASE),
    ),
)

# Normalise the tables once, so they can be written naturally above ("date_commande", "stückpreis").
_SYNONYMS = {
    f: tuple(dict.fromkeys(normalise_header(s) for s in syn)) for f, syn in _SYNONYMS.items()
}

# Every header any field is recognised by: a line naming one of them names columns.
KNOWN_HEADER_KEYS = frozenset(key for keys in _SYNONYMS.values() for key in keys)

GENERIC = Preset(name="generic", signature=frozenset(), columns={})
PRESETS_BY_NAME: dict[str, Preset] = {p.name: p for p in (*PRESETS, GENERIC)}

REQUIREMENTS: tuple[str, ...] = (
    "customer_email or customer_id",
    "ordered_at",
    "line_total, or unit_price with quantity, or order_total",
)


@dataclass(frozen=True, kw_only=True, slots=True)
class ColumnMapping:
    """The confirmed mapping: canonical field -> file column name, plus the preset's behaviour."""

    fields: Mapping[str, str]
    preset: str = "generic"

    @property
    def behaviour(self) -> Preset:
        return PRESETS_BY_NAME.get(self.preset, GENERIC)


@dataclass(frozen=True, kw_only=True, slots=True)
class ProposedMapping:
    """What we guessed from the header row, for the owner to confirm."""

    preset: str
    fields: Mapping[str, str]
    headers: tuple[str, ...]
    unmapped_columns: tuple[str, ...]
    missing_required: tuple[str, ...]
    renamed_duplicates: tuple[str, ...] = field(default=())

    def to_mapping(self) -> ColumnMapping:
        return ColumnMapping(fields=dict(self.fields), preset=self.preset)


def detect_preset(headers: Sequence[str]) -> Preset:
    keys = {normalise_header(h) for h in headers}
    for preset in PRESETS:
        if preset.signature <= keys:
            return preset
    return GENERIC


# Headers that say "customer" and nothing more: a customer number in one shop's export,
# the customer's name in another's spreadsheet ("Kunde: Anna Müller").
_GENERIC_CUSTOMER = frozenset(normalise_header(h) for h in
                              ("customer", "client", "kunde", "cliente", "客户"))


def _looks_like_names(values: Sequence[str]) -> bool:
    """Cells that read as people's names: letters, mostly two words or more, no digits or @."""
    filled = [v.strip() for v in values if v and v.strip()]
    if not filled:
        return False
    plain = all(any(c.isalpha() for c in v) and not any(c.isdigit() for c in v) and "@" not in v
                for v in filled)
    return plain and 2 * sum(" " in v for v in filled) >= len(filled)


def _names_not_ids(fields: dict[str, str], headers: Sequence[str],
                   samples: Sequence[Sequence[str]]) -> None:
    """A generic "Customer" column guessed as the customer id that holds names: shown as
    the name. Still the identity in a file without email, as nothing else names the buyer."""
    column = fields.get("customer_id")
    if (column is None or "customer_name" in fields
            or normalise_header(column) not in _GENERIC_CUSTOMER or column not in headers):
        return
    at = list(headers).index(column)
    if not _looks_like_names([row[at] for row in samples if at < len(row)]):
        return
    fields["customer_name"] = column
    if fields.get("customer_email"):
        del fields["customer_id"]


def propose_mapping(headers: Sequence[str],
                    samples: Sequence[Sequence[str]] = ()) -> ProposedMapping:
    """Guess field -> column from raw header names (duplicates are disambiguated first),
    and from the first rows' cells (`samples`) where a header alone is ambiguous."""
    cleaned = clean_headers(headers)
    names = cleaned.names
    by_key: dict[str, str] = {}
    for name in names:
        by_key.setdefault(normalise_header(name), name)
    preset = detect_preset(names)
    fields: dict[str, str] = {}
    used: set[str] = set()

    def take(field_name: str, candidates: Sequence[str]) -> None:
        for key in candidates:
            column = by_key.get(key)
            if column is not None and column not in used:
                fields[field_name] = column
                used.add(column)
                return

    for field_name, candidates in preset.columns.items():
        take(field_name, candidates)
    for field_name in FIELDS:
        if field_name not in fields and field_name not in preset.unmapped:
            take(field_name, _SYNONYMS[field_name])
    _names_not_ids(fields, names, samples)
    mapping = ColumnMapping(fields=fields, preset=preset.name)
    return ProposedMapping(
        preset=preset.name,
        fields=fields,
        headers=names,
        unmapped_columns=tuple(n for n in names if n not in used),
        missing_required=missing_requirements(mapping),
        renamed_duplicates=cleaned.renamed,
    )


def missing_requirements(mapping: ColumnMapping) -> tuple[str, ...]:
    f = mapping.fields
    missing: list[str] = []
    if not (f.get("customer_email") or f.get("customer_id")):
        missing.append(REQUIREMENTS[0])
    if not f.get("ordered_at"):
        missing.append(REQUIREMENTS[1])
    if not (
        f.get("line_total") or (f.get("unit_price") and f.get("quantity")) or f.get("order_total")
    ):
        missing.append(REQUIREMENTS[2])
    return tuple(missing)


_MESSAGES: dict[str, str] = {
    REQUIREMENTS[0]: gettext_noop(
        "Choose the column that identifies the customer: customer_email or customer_id."),
    REQUIREMENTS[1]: gettext_noop("Choose the column with the order date (ordered_at)."),
    REQUIREMENTS[2]: gettext_noop(
        "Choose a money column: line_total, or unit_price together with quantity, or order_total."
    ),
}


def mapping_problems(mapping: ColumnMapping, headers: Sequence[str] | None = None) -> list[Reason]:
    """What makes a mapping unusable (empty list = usable), naming the missing fields."""
    problems = [Reason(template=_MESSAGES[m]) for m in missing_requirements(mapping)]
    for field_name in mapping.fields:
        if field_name not in FIELDS:
            problems.append(Reason(
                template=gettext_noop("%(name)s is not a field we know; known fields: %(known)s."),
                params={"name": repr(field_name), "known": ", ".join(FIELDS)}))
    if headers is not None:
        known = {h.casefold() for h in clean_headers(headers).names}
        for field_name, column in mapping.fields.items():
            if column and column.casefold() not in known:
                problems.append(Reason(
                    template=gettext_noop(
                        "The column %(column)s chosen for %(key)s is not in this file."),
                    params={"column": repr(column), "key": field_name}))
    if mapping.preset not in PRESETS_BY_NAME:
        problems.append(Reason(template=gettext_noop("%(preset)s is not a known file format."),
                               params={"preset": repr(mapping.preset)}))
    return problems
