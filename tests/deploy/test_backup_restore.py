"""`make backup` / `make restore`: everything the site holds comes back in a fresh database."""

import os
import subprocess
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.db import connection

from cases.models import AuditEvent, Household, Member
from surveys import services
from surveys.models import Survey
from tests.surveys.conftest import fill_in, submit_complete

from .conftest import database_url, environment, on_postgresql

pytestmark = [on_postgresql, pytest.mark.django_db(transaction=True)]
SCRIPTS = Path(settings.BASE_DIR) / "scripts"


def run(script: str, *args, **env) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own scripts, fixed arguments
        [str(SCRIPTS / script), *args],
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def pg_program(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    return str(found[-1]) if found else name


@pytest.fixture
def fresh_database():
    """A new, empty database on the test server (createdb), dropped afterwards."""
    name = f"restore_{uuid.uuid4().hex[:12]}"
    s = connection.settings_dict
    where = ["-h", s["HOST"], "-p", str(s["PORT"]), "-U", s["USER"]]
    env = {**os.environ, "PGPASSWORD": s["PASSWORD"] or ""}
    subprocess.run([pg_program("createdb"), *where, name], check=True, env=env)  # noqa: S603
    yield name
    subprocess.run([pg_program("dropdb"), *where, "--if-exists", name], check=True, env=env)  # noqa: S603


def rows(name: str, sql: str) -> set:
    """The query's rows in the restored database, as tuples of strings."""
    with psycopg2.connect(database_url(name)) as restored, restored.cursor() as cursor:
        cursor.execute(sql)
        return as_text(cursor.fetchall())


def as_text(rows) -> set[tuple[str, ...]]:
    return {tuple(str(v) for v in (row if isinstance(row, tuple) else (row,))) for row in rows}


def test_it_restores_every_household_survey_and_audit_event(
    campaign,
    household_a,
    household_b,
    make_household,
    village_a,
    cadre_a,
    group_leader_a,
    client_for,
    tmp_path,
    fresh_database,
):
    client = client_for(cadre_a)
    submitted = services.start_survey(household_a, campaign=campaign, actor=cadre_a)
    submit_complete(client, submitted, cadre_a, group_leader_a)
    draft = services.start_survey(make_household(village_a, head="赵大明"), campaign=campaign, actor=cadre_a)
    fill_in(client, draft, **{"h-findings": "备份前保存的草稿"})
    backup = tmp_path / "dibao.dump"

    made = run("backup.sh", str(backup), DATABASE_URL=database_url())
    assert made.returncode == 0, made.stderr
    assert backup.stat().st_mode & 0o077 == 0  # personal data: readable by its owner only
    restored = run("restore.sh", str(backup), database_url(fresh_database))
    assert restored.returncode == 0, restored.stderr

    assert rows(fresh_database, "select public_id from cases_household") == as_text(
        Household.objects.values_list("public_id", flat=True)
    )
    assert rows(fresh_database, "select id_number from cases_member") == as_text(
        Member.objects.values_list("id_number", flat=True)
    )
    surveys = rows(fresh_database, "select public_id, status, findings from surveys_survey")
    assert surveys == as_text(Survey.objects.values_list("public_id", "status", "findings"))
    assert (str(draft.public_id), "draft", "备份前保存的草稿") in surveys
    assert (str(submitted.public_id), "submitted") in {s[:2] for s in surveys}
    assert rows(fresh_database, "select count(*) from surveys_surveysignature where signed_at is not null") == {("2",)}
    events = as_text(AuditEvent.objects.values_list("id", "action", "object_id"))
    assert len(events) > 10
    assert rows(fresh_database, "select id, action, object_id from cases_auditevent") == events
    assert f"==> restored households {Household.objects.count()}" in restored.stdout


def test_it_refuses_to_restore_over_a_database_that_has_tables(campaign, tmp_path, fresh_database):
    backup = tmp_path / "dibao.dump"
    assert run("backup.sh", str(backup), DATABASE_URL=database_url()).returncode == 0
    assert run("restore.sh", str(backup), database_url(fresh_database)).returncode == 0

    again = run("restore.sh", str(backup), database_url(fresh_database))
    assert again.returncode == 1
    assert "restore only into a new, empty database" in again.stderr
    assert rows(fresh_database, "select count(*) from cases_household") == {(str(Household.objects.count()),)}
