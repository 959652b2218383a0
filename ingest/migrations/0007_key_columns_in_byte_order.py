"""Customer, order and product keys compare in byte order (collation "C"), see Customer.key."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ingest', '0006_orderline_composite_primary_key'),
    ]

    operations = [
        migrations.AlterField(
            model_name='customer',
            name='key',
            field=models.CharField(db_collation='C', max_length=320),
        ),
        migrations.AlterField(
            model_name='order',
            name='order_key',
            field=models.CharField(db_collation='C', max_length=400),
        ),
        migrations.AlterField(
            model_name='product',
            name='sku',
            field=models.CharField(db_collation='C', max_length=200, unique=True),
        ),
    ]
