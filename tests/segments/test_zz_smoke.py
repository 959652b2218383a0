import time, pytest
from tests.segments.demo_loader import load_demo_shop
from tests.segments.helpers import run_refresh
from segments.models import *

@pytest.mark.django_db
def test_smoke():
    t=time.time(); load_demo_shop(1500); print("load", time.time()-t)
    t=time.time(); run = run_refresh(); print("run", time.time()-t)
    print(run.message, run.metrics["timings"])
    print(run.k_reason, run.metrics.get("clv",{}).get("reason"), run.metrics["propensity"].get("winner"), run.metrics["propensity"].get("reason"))
    print(run.baskets["all"])
    print({k: v.get("rule_count", v.get("skipped")) for k, v in run.baskets["segments"].items()})
    for s in Segment.objects.filter(run=run): print(s.kind, s.key, s.name, s.size, round(s.revenue_share,3), s.rule_text, s.rule_coverage)
    print(CustomerScore.objects.count(), Recommendation.objects.count(), BasketRule.objects.count(), list(InterestTopic.objects.values_list("name", flat=True)))
    t=time.time(); run2 = run_refresh(); print("run2", time.time()-t)
    print(run2.metrics["transitions"]["rfm"][:5])
    print(sorted(Segment.objects.filter(run=run2, kind="cluster").values_list("key","name")))
