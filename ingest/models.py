"""Raw shop data: who bought what, when, for how much; and the imports that brought it."""

from __future__ import annotations

from datetime import datetime

from django.contrib.humanize.templatetags.humanize import intcomma
from django.db import models
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from ingest.pipeline.errors import fill
from ingest.reason_words import reason_text
from profiler_site.core.models import Job, JobStatus


class Customer(models.Model):
    """One person across every upload.

    `key` is the identity: `email:<normalised email>` when the file has an email,
    else `id:<shop customer id>`. The same key in a later upload is the same customer.
    """

    # Unique by a constraint, not `unique=True`: the latter adds a second
    # (LIKE-pattern) index that no query uses and every import pays for.
    # Byte order ("C"), like every key column: keys are compared, never shown in
    # order, and an import compares each one against its index; under a language's
    # collation every comparison goes through the C library's strcoll.
    key = models.CharField(max_length=320, db_collation="C")
    # Indexed in Meta: `db_index=True` would add a LIKE-pattern index too, and the
    # only pattern search (`icontains`) cannot use it.
    email = models.EmailField(max_length=254, blank=True, default="")
    shop_customer_id = models.CharField(max_length=100, blank=True, default="")
    first_name = models.CharField(max_length=150, blank=True, default="")
    last_name = models.CharField(max_length=150, blank=True, default="")
    country = models.CharField(max_length=100, blank=True, default="")
    city = models.CharField(max_length=100, blank=True, default="")
    gender = models.CharField(max_length=30, blank=True, default="")
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    # None: the shop's file said nothing about consent.
    accepts_marketing = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The import that created the customer (null: the events API or an events file),
    # so undoing that import can remove the customers only it brought. No index and
    # no database constraint, as on Order: every import writes it, only an undo reads it.
    import_job = models.ForeignKey(
        "ImportJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_index=False, db_constraint=False,
    )

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["email"], name="ingest_customer_email")]
        constraints = [models.UniqueConstraint(fields=["key"], name="ingest_customer_key_unique")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or self.shop_customer_id or f"#{self.pk}"


class Product(models.Model):
    """Something the shop sells, identified by SKU (or by its name when the file has no SKU)."""

    sku = models.CharField(max_length=200, unique=True, db_collation="C")  # see Customer.key
    name = models.CharField(max_length=300, blank=True, default="")
    category = models.CharField(max_length=200, blank=True, default="", db_index=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name or self.sku


class Order(models.Model):
    """One order; `order_key` is the shop's order id, or customer key + timestamp without one.

    Money is net of returns, refunds and cancellations in `net_total`; the parts
    stay visible in `gross_total`, `returned_total` and `refunded_total`. The totals
    follow one rule, `ingest.pipeline.chunk_tables.order_totals`, whichever way the
    order was loaded; they are computed from the order's lines plus its `unlisted_*`
    amounts (rows of a file that names no product), so a later import of the same
    rows gives the same money.
    """

    # Unique by constraint, in byte order: see Customer.key.
    order_key = models.CharField(max_length=400, db_collation="C")
    # No separate index on customer: the (customer, ordered_at) index below serves it.
    # No database-level foreign keys on orders and lines (`db_constraint=False`):
    # PostgreSQL checks one row at a time, taking a row lock on the parent for
    # each, and at a million lines that was a third of the import. The import
    # loader is the only writer and resolves every id by a join in the same
    # statement; deletes go through the ORM, which still cascades and protects.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="orders", db_index=False,
        db_constraint=False,
    )
    # No index of its own: every per-customer read goes through (customer, ordered_at)
    # below, and the shop-wide reads (overview, refresh) scan all orders anyway. A third
    # index on the biggest table was paid for by every imported order.
    ordered_at = models.DateTimeField()
    is_cancelled = models.BooleanField(default=False)
    gross_total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    returned_total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    refunded_total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    net_total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    import_job = models.ForeignKey(
        "ImportJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_index=False, db_constraint=False,
    )
    # Rows of the order that name no product (e.g. "Customer No., Order Date, Qty,
    # Sales"): they have no line to be kept in, so their quantity and amounts are kept
    # here (null: the order had no such row, or no amount in them).
    unlisted_quantity = models.IntegerField(null=True, blank=True)
    unlisted_gross = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    unlisted_returned = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    # The import that last wrote the order's amounts. Rows of one order in several
    # chunks of that import add up; a later import of the same order replaces them,
    # so importing a file again changes no money. A plain id: see `import_job`.
    last_import_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-ordered_at"]
        indexes = [models.Index(fields=["customer", "ordered_at"])]
        constraints = [models.UniqueConstraint(fields=["order_key"], name="ingest_order_key_unique")]

    def __str__(self) -> str:
        return self.order_key

    @property
    def order_number(self) -> str:
        """The shop's own order id; "" when the file had none and the key was made up.

        A made-up key is `<customer key>@<ISO timestamp>` (ingest/pipeline/rows.py):
        an internal identity, not a number the owner could look up in their shop.
        """
        head, sep, tail = self.order_key.rpartition("@")
        if sep and head:
            try:
                datetime.fromisoformat(tail)
            except ValueError:
                return self.order_key
            return ""
        return self.order_key


class OrderLine(models.Model):
    """A product in an order; a return is its own line with a negative quantity."""

    # The primary key is the line's identity, (order, product, is_return): a
    # surrogate id would cost every imported line a sequence value and a second
    # index that no query uses. The key leads with the order, so it serves the
    # order's lines too.
    pk = models.CompositePrimaryKey("order_id", "product_id", "is_return")
    # No database-level foreign keys: see Order.customer.
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", db_index=False,
                              db_constraint=False)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lines",
                                db_constraint=False)
    is_return = models.BooleanField(default=False)
    quantity = models.IntegerField()
    # Null for an unpriced line: the file gave only its order's total, which is the
    # order's gross (`Order.gross_total`), not a share of it made up per line.
    unit_price = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    line_total = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    # The import that last wrote the line: see Order.last_import_id.
    last_import_id = models.BigIntegerField(null=True, blank=True)


class Event(models.Model):
    """Behaviour of a customer (page view, add to cart, email open, click...), append-only."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=64, db_index=True)
    occurred_at = models.DateTimeField(db_index=True)
    properties = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=32, default="api")
    # Same event sent twice (a retried API call, a re-uploaded file) is stored once.
    dedupe_key = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["customer", "occurred_at"])]


class ImportKind(models.TextChoices):
    ORDERS = "orders", _("Orders")
    EVENTS = "events", _("Events")


class ImportJob(Job):
    """One uploaded file, from upload through column mapping to the final report."""

    kind = models.CharField(max_length=10, choices=ImportKind.choices, default=ImportKind.ORDERS)
    original_name = models.CharField(max_length=255)
    stored_path = models.CharField(max_length=500)
    size_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, default="", db_index=True)
    headers = models.JSONField(default=list, blank=True)
    header_fingerprint = models.CharField(max_length=64, blank=True, default="")
    preset = models.CharField(max_length=40, blank=True, default="")
    mapping = models.JSONField(default=dict, blank=True)
    options = models.JSONField(default=dict, blank=True)
    encoding = models.CharField(max_length=40, blank=True, default="")
    delimiter = models.CharField(max_length=4, blank=True, default="")
    # Resume point: chunks before this one are committed.
    chunks_done = models.PositiveIntegerField(default=0)
    rows_read = models.BigIntegerField(default=0)
    customers_created = models.BigIntegerField(default=0)
    customers_updated = models.BigIntegerField(default=0)
    orders_created = models.BigIntegerField(default=0)
    orders_existing = models.BigIntegerField(default=0)
    lines_created = models.BigIntegerField(default=0)
    events_created = models.BigIntegerField(default=0)
    rows_cleaned = models.BigIntegerField(default=0)
    rows_rejected = models.BigIntegerField(default=0)
    duplicates_dropped = models.BigIntegerField(default=0)
    # Identical rows of a file without an order id kept as separate purchases
    # (options["identical_rows"] == "keep"), and the revenue of the identical rows
    # dropped or kept: the report states the owner's choice with both.
    identical_rows_kept = models.BigIntegerField(default=0)
    identical_rows_money = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    # What the import did to the shop's revenue (the orders' net totals): + what it added,
    # 0 for a file already imported. Summed chunk by chunk with each chunk's commit, so
    # a resumed import counts each chunk once. Null for imports made before it was kept.
    revenue_change = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    cleaning_notes = models.JSONField(default=dict, blank=True)
    outliers = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set when an undo has removed everything this import brought (see ImportUndo).
    undone_at = models.DateTimeField(null=True, blank=True)
    # Why a refused file failed, as data (see ingest.pipeline.errors): `error` is its
    # English sentence. Empty for other failures and for imports made before.
    error_template = models.TextField(blank=True, default="")
    error_params = models.JSONField(default=dict, blank=True)

    task_name = "ingest.tasks.import_file_task"

    @property
    def result_text(self) -> str:
        if self.status != JobStatus.SUCCEEDED or self.kind != ImportKind.ORDERS:
            return ""
        return import_summary(orders=self.orders_created, customers=self.customers_created,
                              rejected=self.rows_rejected)

    @property
    def error_text(self) -> str:
        # The template only while it still says the stored error: a retry that failed
        # another way keeps the error it wrote.
        if not self.error_template or fill(self.error_template, self.error_params) != self.error:
            return self.error
        return reason_text(self.error_template, self.error_params, self.error)

    def __str__(self) -> str:
        return self.original_name


def import_summary(*, orders: int, customers: int, rejected: int) -> str:
    """What an orders import did, each count in its own plural form ("1 new order")."""
    return gettext("Imported %(orders)s of %(customers)s; %(rejected)s.") % {
        "orders": ngettext("%(n)s new order", "%(n)s new orders", orders) % {"n": intcomma(orders)},
        "customers": ngettext("%(n)s new customer", "%(n)s new customers", customers)
        % {"n": intcomma(customers)},
        "rejected": ngettext("%(n)s row rejected", "%(n)s rows rejected", rejected)
        % {"n": intcomma(rejected)},
    }


class ImportRejection(models.Model):
    """A row the import could not take, with its line number in the file and why."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rejections")
    line_no = models.BigIntegerField()
    reason = models.TextField()  # in English, as the worker wrote it (the API gives this)
    # The reason as data, for pages to word in the reader's language (ingest.reason_words);
    # empty for rows refused before reasons were data, which show `reason` as it is.
    reason_template = models.TextField(blank=True, default="")
    reason_params = models.JSONField(default=dict, blank=True)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["line_no"]


class SavedMapping(models.Model):
    """The column mapping the owner confirmed, reused for files with the same header."""

    header_fingerprint = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=10, choices=ImportKind.choices, default=ImportKind.ORDERS)
    mapping = models.JSONField(default=dict)
    options = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class CustomerBefore(models.Model):
    """A customer's details as they were before an import changed them (for its undo).

    Written by the loader in the same statement that changes the customer, only for
    customers the import did not create, and only the first time in that import.
    """

    pk = models.CompositePrimaryKey("job_id", "customer_id")
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="+",
                            db_constraint=False)
    # A plain id: the customer may be gone (a later undo) when this row is read.
    customer_id = models.BigIntegerField()
    email = models.CharField(max_length=254)
    shop_customer_id = models.CharField(max_length=100)
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150)
    country = models.CharField(max_length=100)
    city = models.CharField(max_length=100)
    gender = models.CharField(max_length=30)
    birth_year = models.PositiveSmallIntegerField(null=True)
    accepts_marketing = models.BooleanField(null=True)


class OrderBefore(models.Model):
    """An order's totals as they were before an import that re-imported it (for its undo).

    One small row per existing order a chunk touches; the lines it changed are in
    OrderLineBefore. Orders the import created itself are never recorded.
    """

    pk = models.CompositePrimaryKey("job_id", "order_id")
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="+",
                            db_constraint=False)
    order_id = models.BigIntegerField()
    is_cancelled = models.BooleanField()
    gross_total = models.DecimalField(max_digits=14, decimal_places=2)
    returned_total = models.DecimalField(max_digits=14, decimal_places=2)
    refunded_total = models.DecimalField(max_digits=14, decimal_places=2)
    net_total = models.DecimalField(max_digits=14, decimal_places=2)
    # The parts of a file that named no products (see Order.unlisted_quantity).
    unlisted_quantity = models.IntegerField(null=True, blank=True)
    unlisted_gross = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    unlisted_returned = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)


class OrderLineBefore(models.Model):
    """A stored line an import changed or added to an order it did not create.

    `quantity` null: the import added the line (its undo deletes it); otherwise the
    line's values before the import, which its undo puts back.
    """

    pk = models.CompositePrimaryKey("job_id", "order_id", "product_id", "is_return")
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="+",
                            db_constraint=False)
    order_id = models.BigIntegerField()
    product_id = models.BigIntegerField()
    is_return = models.BooleanField()
    quantity = models.IntegerField(null=True)
    unit_price = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    line_total = models.DecimalField(max_digits=14, decimal_places=2, null=True)


class ImportUndo(Job):
    """Removing what one orders import brought, run by a worker (see ingest.services.undo)."""

    target = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="undos")
    orders_removed = models.BigIntegerField(default=0)
    orders_restored = models.BigIntegerField(default=0)
    customers_removed = models.BigIntegerField(default=0)
    customers_restored = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    task_name = "ingest.tasks.import_undo_task"

    def __str__(self) -> str:
        return f"Undo of {self.target}"


class ErasedCustomer(models.Model):
    """The tombstone of an erased customer: a keyed hash of their key, nothing readable.

    An import skips every row whose customer key hashes to one of these, so an old
    file cannot bring the person back. The hash is keyed (HMAC with the site's
    secret key, see `ingest.services.privacy`): without the key, a guessed address
    cannot be checked against the table.
    """

    key_hash = models.CharField(max_length=64, unique=True)
    erased_at = models.DateTimeField(auto_now_add=True)
