"""Rows that name no product keep their quantity and amounts on their order; orders and
lines remember the import that last wrote them, so a re-import replaces instead of adding."""


from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ingest', '0007_key_columns_in_byte_order'),
    ]

    operations = [
        migrations.AddField(
            model_name='order',
            name='last_import_id',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='order',
            name='unlisted_gross',
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True),
        ),
        migrations.AddField(
            model_name='order',
            name='unlisted_quantity',
            field=models.IntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='order',
            name='unlisted_returned',
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True),
        ),
        migrations.AddField(
            model_name='orderline',
            name='last_import_id',
            field=models.BigIntegerField(blank=True, null=True),
        ),
    ]
