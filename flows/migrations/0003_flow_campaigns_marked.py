"""Campaigns made before `Campaign.from_flow` existed to carry a flow's emails are marked."""

from django.db import migrations


def mark(apps, schema_editor):
    Campaign = apps.get_model("campaigns", "Campaign")
    FlowCampaign = apps.get_model("flows", "FlowCampaign")
    Campaign.objects.filter(
        pk__in=FlowCampaign.objects.values("campaign_id")).update(from_flow=True)


class Migration(migrations.Migration):

    dependencies = [
        ("campaigns", "0005_campaign_from_flow"),
        ("flows", "0002_enrolment_recipient_index_where_set"),
    ]

    operations = [migrations.RunPython(mark, migrations.RunPython.noop)]
