"""Case rows for campaigns that began before the case row existed: every household
in dibao and on the screening list, at the stage its surveys and report show."""

from django.db import migrations


def backfill(apps, schema_editor):
    Campaign = apps.get_model("cases", "Campaign")
    Case = apps.get_model("cases", "Case")
    Household = apps.get_model("cases", "Household")
    ScreeningEntry = apps.get_model("surveys", "ScreeningEntry")
    Survey = apps.get_model("surveys", "Survey")
    VillageReport = apps.get_model("surveys", "VillageReport")
    sources = {"poverty": "poverty", "edge": "edge", "other": "other"}
    for campaign in Campaign.objects.all():
        listed = set(Case.objects.filter(campaign=campaign).values_list("household_id", flat=True))
        rows = []
        for h in Household.objects.filter(dibao_status="active").exclude(id__in=listed).only("id", "village_id"):
            rows.append(Case(campaign=campaign, household_id=h.id, village_id=h.village_id, source="dibao"))
            listed.add(h.id)
        for e in ScreeningEntry.objects.filter(campaign=campaign).select_related("household"):
            if e.household_id not in listed:
                rows.append(
                    Case(
                        campaign=campaign,
                        household_id=e.household_id,
                        village_id=e.household.village_id,
                        source=sources[e.kind],
                    )
                )
        Case.objects.bulk_create(rows, batch_size=2000)
        surveys = Survey.objects.filter(campaign=campaign)
        cases = Case.objects.filter(campaign=campaign)
        cases.filter(household__in=surveys.filter(status="draft").values("household_id")).update(stage="draft")
        cases.filter(household__in=surveys.filter(status="submitted").values("household_id")).update(
            stage="submitted"
        )
        reported = VillageReport.objects.filter(campaign=campaign).values("village_id")
        cases.filter(stage="submitted", village__in=reported).update(stage="reported")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0003_case_row"),
        ("surveys", "0003_screening_source_and_removal"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
