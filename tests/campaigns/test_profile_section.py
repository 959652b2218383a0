import pytest
from django.urls import reverse

from campaigns.models import Campaign, Recipient
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_the_customer_profile_lists_the_campaigns_the_customer_was_in(owner_client):
    customer = CustomerFactory(first_name="Ada")
    campaign = Campaign.objects.create(name="Spring <b>tea</b> sale", subject="Hi",
                                       from_name="Shop", from_address="shop@example.com",
                                       html_body="<p>Hi</p>")
    Recipient.objects.create(campaign=campaign, customer=customer, group="treatment",
                             email=customer.email, status="sent", clicks=2)

    html = owner_client.get(reverse("customer-detail", args=[customer.pk])).content.decode()

    assert 'id="campaign-history"' in html
    assert "Spring &lt;b&gt;tea&lt;/b&gt; sale" in html
    assert reverse("campaign-report", args=[campaign.pk]) in html


def test_a_customer_without_campaigns_has_no_campaign_section(owner_client):
    customer = CustomerFactory()

    html = owner_client.get(reverse("customer-detail", args=[customer.pk])).content.decode()

    assert 'id="campaign-history"' not in html
