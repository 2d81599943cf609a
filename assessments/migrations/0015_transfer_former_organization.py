"""A member transferred while the period is open: the assessment moves to the receiving cell and keeps
the cell it left; a member transferred out of the organisation is not classified by it."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('assessments', '0014_recheck'),
        ('organizations', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='assessment',
            name='former_organization',
            field=models.ForeignKey(blank=True, help_text='The cell the member was transferred from while the period was open.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='organizations.organization', verbose_name='former organisation'),
        ),
        migrations.AlterField(
            model_name='assessment',
            name='exclusion_reason',
            field=models.CharField(blank=True, choices=[('excused', 'Excused from work and party activities'), ('suspended', 'Suspended from party activities'), ('new_member', 'Admitted too recently to be classified'), ('new_organization', 'Founded too recently to be classified'), ('transferred_out', 'Transferred out of the organisation: the receiving organisation classifies')], max_length=20, verbose_name='reason for not classifying'),
        ),
        migrations.AlterField(
            model_name='assessment',
            name='organization',
            field=models.ForeignKey(help_text="The organisation reviewed, or the member's cell (at the opening, or since a transfer).", on_delete=django.db.models.deletion.PROTECT, related_name='assessments', to='organizations.organization', verbose_name='organisation'),
        ),
    ]
