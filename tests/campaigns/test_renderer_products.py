import pytest

from campaigns.services.rendering import CampaignRenderer
from tests.campaigns.conftest import make_campaign

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("subject, body, uses", [
    ("Hi", "<p>Hello {{ first_name }}</p>", False),
    ("Hi", "<p>Picked for you:</p>{{ recommended_products }}", True),
    ("Hi", '<p>{{ recommended_products | "nothing yet" }}</p>', True),
    ("Hi {{ recommended_products }}", "<p>Hello</p>", True),
    ("Hi", "<p>recommended_products are below</p>", False),
])
def test_the_renderer_knows_whether_the_campaign_shows_recommended_products(subject, body, uses):
    campaign = make_campaign(subject=subject, html_body=body)

    assert CampaignRenderer(campaign).uses_products is uses
