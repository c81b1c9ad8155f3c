"""No silent defaults on people: marital status, education and employment are chosen, never preset."""

from django.urls import reverse

from cases.models import AuditEvent, Member


def _member_form(member, **changes):
    data = {
        "name": member.name,
        "id_number": member.id_number,
        "relationship": member.relationship,
        "ethnicity": member.ethnicity,
        "marital_status": "married",
        "education": "primary",
        "health": "healthy",
        "work_ability": "normal",
        "employment": "farming",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_new_member_starts_with_these_facts_empty(household_a):
    head = household_a.members.get(relationship=Member.Relationship.HEAD)
    assert (head.marital_status, head.education, head.employment) == ("", "", "")
    assert head.get_employment_display() == ""


def test_it_refuses_to_save_a_member_until_the_facts_are_chosen(client, cadre_a, household_a):
    head = household_a.members.get(relationship=Member.Relationship.HEAD)
    client.force_login(cadre_a)
    events = AuditEvent.objects.count()
    response = client.post(
        reverse("member_edit", args=[head.public_id]),
        _member_form(head, marital_status=None, education="", employment=None, name="张建民"),
    )
    page = response.content.decode()
    assert "请选择婚姻状况" in page and "请选择文化程度" in page and "请选择从业状况" in page
    head.refresh_from_db()
    assert head.name == "张建国" and head.marital_status == ""
    assert AuditEvent.objects.count() == events


def test_it_saves_the_chosen_facts(client, cadre_a, household_a):
    head = household_a.members.get(relationship=Member.Relationship.HEAD)
    client.force_login(cadre_a)
    client.post(reverse("member_edit", args=[head.public_id]), _member_form(head, marital_status="widowed"))
    head.refresh_from_db()
    assert (head.marital_status, head.education, head.employment) == ("widowed", "primary", "farming")
