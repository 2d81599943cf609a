"""`exclusion_reason` now holds a code of vocabulary.ExclusionReason (0010 converted the rows)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('assessments', '0010_exclusion_rule_ids'),
    ]

    operations = [
        migrations.AlterField(
            model_name='assessment',
            name='exclusion_reason',
            field=models.CharField(blank=True, choices=[('excused', 'Excused from work and party activities'), ('suspended', 'Suspended from party activities'), ('new_member', 'Admitted too recently to be classified'), ('new_organization', 'Founded too recently to be classified')], max_length=20, verbose_name='reason for not classifying'),
        ),
    ]
