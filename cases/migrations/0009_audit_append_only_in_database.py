"""The database itself refuses to change or delete an audit row (PostgreSQL trigger).

SQLite keeps the model's own guard (AuditEvent.save/delete). TRUNCATE, which only
the database owner can run (and the test runner uses to reset), is not covered."""

from django.db import migrations

CREATE = [
    """
    CREATE OR REPLACE FUNCTION cases_auditevent_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION USING
            MESSAGE = '操作记录只能新增，不能修改或删除：' || TG_OP,
            ERRCODE = 'insufficient_privilege';
    END;
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS cases_auditevent_append_only ON cases_auditevent",
    """
    CREATE TRIGGER cases_auditevent_append_only
        BEFORE UPDATE OR DELETE ON cases_auditevent
        FOR EACH ROW EXECUTE FUNCTION cases_auditevent_append_only()
    """,
]
DROP = [
    "DROP TRIGGER IF EXISTS cases_auditevent_append_only ON cases_auditevent",
    "DROP FUNCTION IF EXISTS cases_auditevent_append_only()",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("cases", "0008_audit_kept")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
