"""An index the customers list reads by: all customers, biggest spenders first.

Raw SQL rather than CustomerScore.Meta.indexes because segments/models.py belongs to
another change in flight; the owner of the model may move it there later (replace
this RunSQL with a SeparateDatabaseAndState so existing databases keep the index).
"""

from django.db import migrations

SCORE_MONETARY = """
CREATE INDEX IF NOT EXISTS score_monetary
    ON segments_customerscore (monetary DESC NULLS LAST, customer_id)
"""


class Migration(migrations.Migration):

    dependencies = [
        ("segments", "0004_placement_model"),
    ]

    operations = [
        migrations.RunSQL(SCORE_MONETARY, "DROP INDEX IF EXISTS score_monetary"),
    ]
