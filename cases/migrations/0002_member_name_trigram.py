"""A trigram index on member names, so that any part of a name (凤英 in 梁凤英)
is found by an indexed search on PostgreSQL. SQLite has no such index and scans."""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS member_name_trgm_idx ON cases_member USING gin (name gin_trgm_ops)",
]
DROP = ["DROP INDEX IF EXISTS member_name_trgm_idx"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
