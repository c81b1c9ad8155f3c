# Several towns in one county installation: a town-bound account (village, work group, town
# office, leadership group) names its town; the county and the administrator choose one.

import django.db.models.deletion
from django.db import migrations, models


def fill_towns(apps, schema_editor):
    """Each existing account's town: its village's, its work group's campaign's, else (the town
    office and the leadership group of a one-town installation) the town running the latest
    campaign, or the only town."""
    Profile = apps.get_model("cases", "Profile")
    Campaign = apps.get_model("cases", "Campaign")
    Town = apps.get_model("cases", "Town")
    latest = Campaign.objects.filter(is_active=True).order_by("-created_at").first()
    default = latest.town_id if latest else Town.objects.order_by("id").values_list("id", flat=True).first()
    for profile in Profile.objects.select_related("village", "work_group__campaign").exclude(
        role__in=["county", "admin"]
    ):
        if profile.village_id:
            profile.town_id = profile.village.town_id
        elif profile.work_group_id:
            profile.town_id = profile.work_group.campaign.town_id
        else:
            profile.town_id = default
        profile.save(update_fields=["town"])


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0022_case_amounts_and_outreach"),
    ]

    operations = [
        migrations.AddField(
            model_name="profile",
            name="town",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="staff",
                to="cases.town",
                verbose_name="所属乡镇",
            ),
        ),
        migrations.RunPython(fill_towns, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="profile",
            constraint=models.CheckConstraint(
                condition=models.Q(("role__in", ["county", "admin"]), ("town__isnull", False), _connector="OR"),
                name="town_bound_user_has_town",
            ),
        ),
    ]
