"""Analysis results: segmentation runs, their segments, per-customer scores, rules."""

from __future__ import annotations

from django.contrib.humanize.templatetags.humanize import intcomma
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from profiler_site.core.models import Job, JobStatus


class RunTrigger(models.TextChoices):
    IMPORT = "import", _("After an import")
    MANUAL = "manual", _("Started by you")


class KMode(models.TextChoices):
    AUTO = "auto", _("Choose automatically")
    FIXED = "fixed", _("Fixed number")


class SegmentKind(models.TextChoices):
    RFM = "rfm", _("RFM segments")
    CLUSTER = "cluster", _("Clusters")


class SegmentationRun(Job):
    """One full refresh of the analysis (features → RFM → clusters → value models → interests).

    Exactly one succeeded run is `is_current`; pages and selectors read that one. The
    metrics of every model live in `metrics` (JSON) so the Models page can explain
    them later without refitting anything. Its basket rules and recommendations are
    mined afterwards by the run's RuleMiningJob.
    """

    trigger = models.CharField(max_length=10, choices=RunTrigger.choices, default=RunTrigger.MANUAL)
    as_of = models.DateTimeField(null=True, blank=True)
    k_mode = models.CharField(max_length=10, choices=KMode.choices, default=KMode.AUTO)
    k_requested = models.PositiveSmallIntegerField(null=True, blank=True)
    k_chosen = models.PositiveSmallIntegerField(null=True, blank=True)
    k_reason = models.TextField(blank=True, default="")
    silhouette_curve = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    baskets = models.JSONField(default=dict, blank=True)
    customer_count = models.PositiveIntegerField(default=0)
    order_count = models.PositiveIntegerField(default=0)
    is_current = models.BooleanField(default=False, db_index=True)
    # What the overview, RFM and segment pages draw, computed once at the end of the
    # run so a page reads one row instead of aggregating a million order lines:
    # kpis, monthly_revenue, scatter {points, total}, rfm_grid. Empty on older runs,
    # where the selectors compute the same numbers live.
    page_data = models.JSONField(default=dict, blank=True)

    task_name = "segments.tasks.run_segmentation_task"

    @property
    def result_text(self) -> str:
        if self.status != JobStatus.SUCCEEDED:
            return ""
        customers = ngettext("%(n)s customer", "%(n)s customers", self.customer_count or 0) % {
            "n": intcomma(self.customer_count)}
        return ngettext(
            "%(customers)s in %(k)s cluster", "%(customers)s in %(k)s clusters", self.k_chosen or 0,
        ) % {"customers": customers, "k": self.k_chosen or 0}

    class Meta(Job.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"],
                condition=models.Q(is_current=True),
                name="one_current_segmentation_run",
            )
        ]

    def __str__(self) -> str:
        return f"Run #{self.pk} ({self.get_status_display()})"


class RuleMiningJob(Job):
    """Basket rules and recommendations for one segmentation run, mined after it.

    The run finishes (and becomes current) first; this job then reads that run's
    purchased lines and RFM memberships back from PostgreSQL, mines the rules (all
    orders and per RFM segment) and the next-product recommendations, and saves them
    under the run. Until it succeeds, pages show the newest run whose rules are mined
    and say that the current run's are still being mined. Runs from before this job
    existed have no row: they mined their rules themselves.
    """

    run = models.OneToOneField(SegmentationRun, on_delete=models.CASCADE,
                               related_name="rule_mining")

    task_name = "segments.tasks.mine_rules_task"

    @property
    def result_text(self) -> str:
        if self.status != JobStatus.SUCCEEDED:
            return ""
        return gettext("Basket rules and recommendations are ready.")

    def __str__(self) -> str:
        return f"Rule mining for run #{self.run_id} ({self.get_status_display()})"


class Segment(models.Model):
    """A group of customers in one run: an RFM segment or a k-means cluster.

    `key` is stable across runs: the RFM slug, or `cluster-<id>` where the id is kept
    by matching centroids to the previous run's, so renames and history follow it.
    """

    run = models.ForeignKey(SegmentationRun, on_delete=models.CASCADE, related_name="segments")
    kind = models.CharField(max_length=10, choices=SegmentKind.choices)
    key = models.CharField(max_length=60)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    rule_text = models.TextField(blank=True, default="")
    rule_coverage = models.FloatField(null=True, blank=True)
    rule_precision = models.FloatField(null=True, blank=True)
    size = models.PositiveIntegerField(default=0)
    share = models.FloatField(default=0.0)
    revenue = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    revenue_share = models.FloatField(default=0.0)
    avg_recency_days = models.FloatField(default=0.0)
    avg_frequency = models.FloatField(default=0.0)
    avg_monetary = models.FloatField(default=0.0)
    centroid = models.JSONField(default=dict, blank=True)
    # What a generated cluster name claims, as bounds on the members' facts
    # (clustering.NameClaim as dicts): a profile says where the name is not true of
    # its customer. Empty for RFM segments and for runs made before it was kept.
    name_claims = models.JSONField(default=list, blank=True)
    # Best-selling products / categories of the members, computed by the run (None
    # on runs saved before these existed: the selector then asks the database).
    top_products = models.JSONField(null=True, blank=True, default=None)
    top_categories = models.JSONField(null=True, blank=True, default=None)

    class Meta:
        ordering = ["kind", "-revenue"]
        constraints = [
            models.UniqueConstraint(fields=["run", "kind", "key"], name="segment_unique_per_run")
        ]

    def __str__(self) -> str:
        return self.name


class SegmentLabel(models.Model):
    """The owner's own name for a segment; keyed by kind + key so it survives runs."""

    kind = models.CharField(max_length=10, choices=SegmentKind.choices)
    key = models.CharField(max_length=60)
    name = models.CharField(max_length=100)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], name="segment_label_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.key} = {self.name}"


class CustomerScore(models.Model):
    """Everything the current run knows about one customer; rewritten by every run.

    Prediction columns are null when the run had not enough history to fit the model.
    Like SegmentMembership and Recommendation, the rows are bulk-written by COPY from
    customers the run has just read, so the foreign keys are not database constraints:
    checking 100k of them at commit (each locking the customer row) cost seconds per
    run. Django's on_delete still cascades.
    """

    customer = models.OneToOneField(
        "ingest.Customer", primary_key=True, on_delete=models.CASCADE, related_name="score",
        db_constraint=False,
    )
    # Not indexed: every row belongs to the current run, so the index had one value.
    run = models.ForeignKey(SegmentationRun, on_delete=models.CASCADE, related_name="+",
                            db_constraint=False, db_index=False)
    first_order_at = models.DateTimeField()
    last_order_at = models.DateTimeField()
    recency_days = models.FloatField()
    frequency = models.PositiveIntegerField()
    monetary = models.FloatField()
    avg_order_value = models.FloatField()
    tenure_days = models.FloatField()
    mean_days_between_orders = models.FloatField(null=True, blank=True)
    return_rate = models.FloatField(default=0.0)
    r_score = models.PositiveSmallIntegerField()
    f_score = models.PositiveSmallIntegerField()
    m_score = models.PositiveSmallIntegerField()
    # No single-column indexes on the keys: the (key, monetary, customer) indexes
    # below lead with them, and each extra index (two each, with Django's LIKE
    # index) slowed every run's rewrite of the table.
    rfm_key = models.CharField(max_length=60)
    cluster_key = models.CharField(max_length=60)
    # "classifier" when placed between runs by the segment classifier (see PlacedBy).
    placed_by = models.CharField(max_length=20, default="run")
    # The classifier's probability for the cluster it chose; null when placed by a run.
    placement_probability = models.FloatField(null=True, blank=True)
    p_alive = models.FloatField(null=True, blank=True)
    expected_orders_90 = models.FloatField(null=True, blank=True)
    expected_orders_365 = models.FloatField(null=True, blank=True)
    expected_value_12m = models.FloatField(null=True, blank=True)
    propensity = models.FloatField(null=True, blank=True, db_index=True)
    propensity_percentile = models.FloatField(null=True, blank=True)
    interests = models.JSONField(default=list, blank=True)
    plot_x = models.FloatField(default=0.0)
    plot_y = models.FloatField(default=0.0)

    class Meta:
        ordering = ["customer_id"]
        indexes = [
            models.Index(fields=["r_score", "f_score"]),
            # A segment's member list, biggest spenders first (its page's default sort):
            # the first page is read off the index instead of sorting the whole segment.
            models.Index(F("rfm_key"), F("monetary").desc(nulls_last=True), F("customer_id"),
                         name="score_rfm_monetary"),
            models.Index(F("cluster_key"), F("monetary").desc(nulls_last=True),
                         F("customer_id"), name="score_cluster_monetary"),
        ]

    @property
    def rfm_cell(self) -> str:
        return f"{self.r_score}{self.f_score}{self.m_score}"


class PlacedBy(models.TextChoices):
    RUN = "run", _("Full run")
    CLASSIFIER = "classifier", _("Placed by the classifier, full re-clustering pending")


class SegmentMembership(models.Model):
    """Who was in which segment in which run: the history behind "38 Champions became At Risk".

    Customers imported after a run are added to it by the run's placement model
    (``placed_by`` = classifier) until the next full run clusters them for real.
    """

    # Indexed by the (run, rfm_key) and (run, cluster_key) indexes, which lead with it.
    run = models.ForeignKey(SegmentationRun, on_delete=models.CASCADE, related_name="memberships",
                            db_index=False)
    customer = models.ForeignKey(
        "ingest.Customer", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    rfm_key = models.CharField(max_length=60)
    cluster_key = models.CharField(max_length=60)
    placed_by = models.CharField(max_length=20, choices=PlacedBy.choices, default=PlacedBy.RUN,
                                 db_default=PlacedBy.RUN)
    placement_probability = models.FloatField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["run", "rfm_key"]), models.Index(fields=["run", "cluster_key"])]


class PlacementModel(models.Model):
    """The segment classifier of a run, kept to place customers imported after it.

    ``model`` is the fitted random forest (joblib bytes) whose held-out metrics the
    run reports; ``columns`` its input features and ``fill`` the training medians used
    for a feature a new customer lacks. ``rfm_edges`` are the run's quintile edges
    (recency_days, frequency, monetary), so new customers get RFM scores on the run's
    scale. Only the current run's model is kept: older ones are deleted when a run
    saves its own.
    """

    run = models.OneToOneField(SegmentationRun, on_delete=models.CASCADE,
                               related_name="placement_model")
    columns = models.JSONField(default=list)
    fill = models.JSONField(default=dict)
    rfm_edges = models.JSONField(default=dict)
    model = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Placement model of run #{self.run_id}"


class BasketRule(models.Model):
    """An association rule "bought A → also bought B" mined in a run ('' segment = all orders)."""

    run = models.ForeignKey(SegmentationRun, on_delete=models.CASCADE, related_name="rules")
    segment_key = models.CharField(max_length=60, blank=True, default="", db_index=True)
    antecedent_ids = ArrayField(models.BigIntegerField())
    consequent_ids = ArrayField(models.BigIntegerField())
    support = models.FloatField()
    confidence = models.FloatField()
    lift = models.FloatField()
    leverage = models.FloatField()
    conviction = models.FloatField()
    order_count = models.PositiveIntegerField()

    class Meta:
        ordering = ["-lift", "-confidence"]


class Recommendation(models.Model):
    """A product suggested to a customer by the current run (rules first, then popular).

    Half a million rows per run at 100k customers, written by COPY: no database-level
    foreign keys (see CustomerScore) and no single-column indexes beyond the
    (customer, rank) one that pages read by; not even on run, which has one value.
    """

    run = models.ForeignKey(SegmentationRun, on_delete=models.CASCADE, related_name="+",
                            db_constraint=False, db_index=False)
    customer = models.ForeignKey(
        "ingest.Customer", on_delete=models.CASCADE, related_name="recommendations",
        db_constraint=False, db_index=False,
    )
    product = models.ForeignKey("ingest.Product", on_delete=models.CASCADE, related_name="+",
                                db_constraint=False, db_index=False)
    rank = models.PositiveSmallIntegerField()
    score = models.FloatField()
    source = models.CharField(max_length=20)

    class Meta:
        ordering = ["customer_id", "rank"]
        indexes = [models.Index(fields=["customer", "rank"])]


class InterestTopic(models.Model):
    """An LDA topic over product categories, named by its top terms."""

    run = models.ForeignKey(SegmentationRun, on_delete=models.CASCADE, related_name="topics")
    topic_index = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=300)
    terms = models.JSONField(default=list)

    class Meta:
        ordering = ["topic_index"]
