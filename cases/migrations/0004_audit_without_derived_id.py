"""Remove the reversed ID number from audit rows written before snapshots left it out:
the household timeline showed it, which gave the full number back without a reveal."""

from django.db import migrations


def strip(apps, schema_editor):
    AuditEvent = apps.get_model("cases", "AuditEvent")
    changed = []
    for event in AuditEvent.objects.filter(changes__has_key="id_reversed").iterator(chunk_size=2000):
        event.changes.pop("id_reversed", None)
        changed.append(event)
        if len(changed) >= 2000:
            AuditEvent.objects.bulk_update(changed, ["changes"])
            changed = []
    AuditEvent.objects.bulk_update(changed, ["changes"])


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_case_row")]

    operations = [migrations.RunPython(strip, migrations.RunPython.noop)]
