from django.urls import reverse

from profiler_site.core.services import user_language_set
from segments.models import Segment
from tests.segments.helpers import run_refresh


def test_rfm_segment_names_show_in_the_owners_language_and_renames_stay_as_written(
    small_shop, owner, owner_client
):
    run = run_refresh()
    names = set(Segment.objects.filter(run=run, kind="rfm").values_list("name", flat=True))
    assert names  # the run named its RFM segments in English

    english = owner_client.get(reverse("segments")).content.decode()
    user_language_set(user=owner, language="zh-hans")
    chinese = owner_client.get(reverse("segments")).content.decode()

    assert any(name in english for name in names)
    translated = {"Champions": "冠军客户", "Loyal": "忠诚客户", "Lost": "已流失", "At Risk": "流失风险",
                  "New": "新客户", "Hibernating": "休眠客户", "Promising": "有潜力的客户",
                  "Potential Loyalist": "潜力忠诚客户", "Need Attention": "需要关注",
                  "About to Sleep": "即将沉睡", "Can't Lose": "不能失去的客户"}
    assert all(translated[name] in chinese for name in names)
