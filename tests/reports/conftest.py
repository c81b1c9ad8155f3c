import io
import re

import pytest
from pypdf import PdfReader

from surveys.models import Survey
from tests.surveys.conftest import submit_complete, survey_a, verify_town  # noqa: F401 - shared fixtures

# Everything the investigators fill in beyond COMPLETE, so that every field of the form has a
# value the printed form must show.
RICH = {
    "h-covered_persons": "1",
    "h-deposits": "1234.56",
    "h-securities": "200",
    "h-commercial_insurance": "300",
    "h-money_owed": "400",
    "h-business": "individual",
    "h-employs_others": "on",
    "h-shop_fronts": "1",
    "h-livestock": "生猪5头",
    "h-flat_purchased_on": "2015-03-01",
    "h-major_build_on": "2016-04-02",
    "h-second_cause": "disability",
    "h-third_cause": "study",
    "h-tag_serious_illness": "on",
    "h-tag_orphan": "on",
    "h-knows_policy": "on",
    "h-findings": "入户查看住房与收入，邻居佐证。",
    "h-recommendation": "adjust",
    "h-recommendation_reason": "户主病情加重，建议调整档次。",
    "h-head_confirmation": "thumbprint",
    "h-committee_opinion": "经村民代表评议，同意调整。",
    "m-0-inc_crop": "1200",
    "m-1-inc_pension": "2400",
    "m-1-inc_basic_pension": "1260",
    "m-1-change_reason": "长期在外务工",
    "m-1-co_resident": None,  # not living with the household: not counted
    "d-medical": "800",
    "d-employment": "300",
    "house-0-kind": "self_built",
    "house-0-count": "1",
    "house-0-area": "85.5",
    "house-0-fit_out": "简单装修",
    "house-0-owner": "张建国",
    "vehicle-0-kind": "motorbike",
    "vehicle-0-count": "2",
    "vehicle-0-disability_vehicle": "on",
    "supporter-0-name": "张小明",
    "supporter-0-relationship": "儿子",
    "supporter-0-age": "35",
    "supporter-0-health": "良好",
    "supporter-0-occupation": "建筑工",
    "supporter-0-annual_income": "36000",
    "supporter-0-household_size": "4",
}


@pytest.fixture
def rich_survey(client_for, survey_a, cadre_a, group_leader_a):  # noqa: F811 - the shared fixture
    """household_a's form A, submitted with every field filled in."""
    submit_complete(client_for(cadre_a), survey_a, cadre_a, group_leader_a, **RICH)
    return Survey.objects.get(pk=survey_a.pk)


def pdf_text(content: bytes) -> str:
    """The PDF's text with all white space removed (table cells break lines anywhere)."""
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages))


def pdf_pages(content: bytes) -> list[str]:
    return [re.sub(r"\s+", "", page.extract_text()) for page in PdfReader(io.BytesIO(content)).pages]


@pytest.fixture
def immediate_tasks(settings, tmp_path):
    """Background jobs run at once in the test's process, their files in a folder of the test's."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.EXPORT_ROOT = tmp_path / "exports"
    return settings


@pytest.fixture
def queued_tasks(settings, tmp_path):
    """Background jobs wait in the database queue (no worker runs in the test)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.EXPORT_ROOT = tmp_path / "exports"
    return settings
