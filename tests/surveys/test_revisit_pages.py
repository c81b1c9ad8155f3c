"""The re-visit as the town office does it in the browser, and who may see or change it."""

import pytest
from django.urls import reverse

from surveys.models import Difference, Revisit
from tests.conftest import PASSWORD
from tests.surveys.test_revisit import sampled  # noqa: F401 - the fixture


def _form(page_html: str) -> dict:
    """The re-visit form's fields as the page renders them (inputs with values, checked boxes)."""
    import re

    data = {}
    form = page_html[page_html.index('name="edit_version"') - 40 : page_html.index("保存核查")]
    for tag in re.findall(r"<(?:input|select|textarea)[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="checkbox"' in tag:
            if "checked" in tag:
                data[name.group(1)] = "on"
        elif tag.startswith("<select"):
            data[name.group(1)] = ""
        else:
            data[name.group(1)] = value.group(1) if value else ""
    return data


def test_the_town_office_revisits_signs_submits_and_judges_in_the_browser(client, sampled, town_office):  # noqa: F811
    client.force_login(town_office)
    response = client.post(reverse("survey_revisit_start", args=["town", sampled.household.public_id]))
    revisit = Revisit.objects.get()
    assert response["Location"] == reverse("survey_revisit", args=[revisit.public_id])
    page = client.get(response["Location"]).content.decode()
    assert "与村级调查逐项对照" in page and "张建国：工资性收入" in page
    data = _form(page)
    head_row = revisit.members.order_by("order").first()
    data.update(
        {
            "visit_date": "2019-11-07",
            "covered_persons": "2",
            "main_cause": "illness",
            "recommendation": "keep",
            f"m{head_row.pk}_inc_wage": "9600",
        }
    )
    response = client.post(reverse("survey_revisit", args=[revisit.public_id]), data, follow=True)
    page = response.content.decode()
    assert "核查已保存" in page and 'data-differs="1"' in page
    client.post(
        reverse("survey_revisit_verifiers", args=[revisit.public_id]),
        {"verifiers": [town_office.pk, _user("group03").pk]},
    )
    page = client.get(reverse("survey_revisit", args=[revisit.public_id])).content.decode()
    fingerprint = page.split('name="fingerprint" value="')[1].split('"')[0]
    sign = reverse("survey_revisit_sign", args=[revisit.public_id])
    client.post(sign, {"verifier": town_office.pk, "fingerprint": fingerprint})
    client.post(sign, {"verifier": _user("group03").pk, "password": PASSWORD, "fingerprint": fingerprint})
    response = client.post(reverse("survey_revisit_submit", args=[revisit.public_id]), follow=True)
    page = response.content.decode()
    assert "核查已提交" in page and "差异认定" in page
    difference = Difference.objects.get(revisit=revisit)
    client.post(
        reverse("survey_revisit_judge", args=[revisit.public_id]),
        {"key": difference.key, "verdict": "household", "note": ""},
    )
    difference.refresh_from_db()
    assert difference.verdict == ""
    client.post(
        reverse("survey_revisit_judge", args=[revisit.public_id]),
        {"key": difference.key, "verdict": "household", "note": "户主隐瞒外出务工收入"},
    )
    difference.refresh_from_db()
    assert difference.get_verdict_display() == "疑似家庭虚报"
    record = client.get(reverse("survey_investigators_record")).content.decode()
    assert "cadre02" in record and "group02" in record


def _user(username):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


@pytest.mark.parametrize("persona", ["cadre_a", "group_leader_a"])
def test_villages_and_work_groups_cannot_open_the_revisits(client, request, persona, sampled, town_office):  # noqa: F811
    from surveys import revisits

    revisit = revisits.start_revisit(sampled, actor=town_office)
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("survey_revisit", args=[revisit.public_id])).status_code == 403
    assert client.get(reverse("survey_investigators_record")).status_code == 403


@pytest.mark.parametrize("persona", ["leadership", "county_officer"])
def test_read_only_roles_see_the_revisit_and_change_nothing(client, request, persona, sampled, town_office):  # noqa: F811
    from surveys import revisits

    revisit = revisits.start_revisit(sampled, actor=town_office)
    client.force_login(request.getfixturevalue(persona))
    page = client.get(reverse("survey_revisit", args=[revisit.public_id]))
    assert page.status_code == 200 and "与村级调查逐项对照" in page.content.decode()
    assert "保存核查" not in page.content.decode()
    for name in ["survey_revisit", "survey_revisit_submit", "survey_revisit_verifiers"]:
        assert client.post(reverse(name, args=[revisit.public_id]), {}).status_code == 403
    assert client.get(reverse("survey_investigators_record")).status_code == 200
    assert Revisit.objects.get(pk=revisit.pk).status == "draft"
