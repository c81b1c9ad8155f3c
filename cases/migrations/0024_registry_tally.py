"""The registry's household count per village, kept by triggers on cases_household.

The household list shows how many households match; unfiltered, that is the sum of its
villages' counts here instead of a count over every household of the town. Triggers, not
the application, keep it: every insert, delete and change of village counts, whatever made
it (the services, a bulk import, the admin, a script), in the same transaction.
"""

import django.db.models.deletion
from django.db import migrations, models

POSTGRESQL = [
    """
    CREATE FUNCTION cases_registry_tally() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            UPDATE cases_registrytally SET households = households - 1 WHERE village_id = OLD.village_id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO cases_registrytally (village_id, households) VALUES (NEW.village_id, 1)
            ON CONFLICT (village_id) DO UPDATE SET households = cases_registrytally.households + 1;
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER cases_household_registry_tally AFTER INSERT OR DELETE ON cases_household
    FOR EACH ROW EXECUTE FUNCTION cases_registry_tally()
    """,
    """
    CREATE TRIGGER cases_household_registry_move AFTER UPDATE OF village_id ON cases_household
    FOR EACH ROW WHEN (OLD.village_id IS DISTINCT FROM NEW.village_id) EXECUTE FUNCTION cases_registry_tally()
    """,
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS cases_household_registry_move ON cases_household",
    "DROP TRIGGER IF EXISTS cases_household_registry_tally ON cases_household",
    "DROP FUNCTION IF EXISTS cases_registry_tally()",
]

SQLITE = [
    """
    CREATE TRIGGER cases_household_registry_insert AFTER INSERT ON cases_household BEGIN
        INSERT OR IGNORE INTO cases_registrytally (village_id, households) VALUES (NEW.village_id, 0);
        UPDATE cases_registrytally SET households = households + 1 WHERE village_id = NEW.village_id;
    END
    """,
    """
    CREATE TRIGGER cases_household_registry_delete AFTER DELETE ON cases_household BEGIN
        UPDATE cases_registrytally SET households = households - 1 WHERE village_id = OLD.village_id;
    END
    """,
    """
    CREATE TRIGGER cases_household_registry_move AFTER UPDATE OF village_id ON cases_household
    WHEN OLD.village_id <> NEW.village_id BEGIN
        UPDATE cases_registrytally SET households = households - 1 WHERE village_id = OLD.village_id;
        INSERT OR IGNORE INTO cases_registrytally (village_id, households) VALUES (NEW.village_id, 0);
        UPDATE cases_registrytally SET households = households + 1 WHERE village_id = NEW.village_id;
    END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS cases_household_registry_move",
    "DROP TRIGGER IF EXISTS cases_household_registry_delete",
    "DROP TRIGGER IF EXISTS cases_household_registry_insert",
]

COUNT = """
    INSERT INTO cases_registrytally (village_id, households)
    SELECT village_id, COUNT(*) FROM cases_household GROUP BY village_id
"""


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": POSTGRESQL, "sqlite": SQLITE}.get(vendor)
    if statements is None:
        raise RuntimeError(f"cases_registrytally has no triggers for {vendor}")
    for sql in statements:
        schema_editor.execute(sql)
    schema_editor.execute(COUNT)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP}.get(vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("cases", "0023_profile_town")]

    operations = [
        migrations.CreateModel(
            name="RegistryTally",
            fields=[
                (
                    "village",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="cases.village",
                        verbose_name="村（社区）",
                    ),
                ),
                ("households", models.IntegerField(default=0, verbose_name="户数")),
            ],
            options={"verbose_name": "花名册户数统计", "verbose_name_plural": "花名册户数统计"},
        ),
        migrations.RunPython(create, drop),
    ]
