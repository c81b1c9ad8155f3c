import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """No index of their own on a case row's campaign, village and decision (see Case); the
    members who are relatives of cadres or staff by a partial index."""

    dependencies = [
        ("cases", "0019_tally_review_states"),
    ]

    operations = [
        migrations.AlterField(
            model_name="case",
            name="campaign",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="cases",
                to="cases.campaign",
            ),
        ),
        migrations.AlterField(
            model_name="case",
            name="village",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="cases.village"
            ),
        ),
        migrations.AlterField(
            model_name="case",
            name="decision",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="cases.decision",
                verbose_name="当前决定",
            ),
        ),
        migrations.AddIndex(
            model_name="member",
            index=models.Index(
                condition=models.Q(("is_cadre_relative", True), ("status", "present")),
                fields=["household"],
                name="member_cadre_relative_idx",
            ),
        ),
    ]
