"""Every change made in the admin is in the trail: many-to-many (a village added to a
work group widens its scope) and inline rows too; households and members are never deleted."""

from django.urls import reverse

from cases.models import AuditEvent, Village, WorkGroup


def _work_group_form(group, villages, members):
    data = {
        "campaign": group.campaign_id,
        "number": group.number,
        "name": group.name,
        "villages": [v.pk for v in villages],
        "members-TOTAL_FORMS": str(len(members) + 1),
        "members-INITIAL_FORMS": str(len(members)),
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "1000",
    }
    for i, m in enumerate(members):
        data.update(
            {
                f"members-{i}-id": m.pk,
                f"members-{i}-work_group": group.pk,
                f"members-{i}-name": m.name,
                f"members-{i}-role": m.role,
                f"members-{i}-position": m.position,
            }
        )
    return data


def test_adding_a_village_to_a_work_group_in_the_admin_is_recorded(client, admin_user, campaign):
    group = WorkGroup.objects.get(campaign=campaign, number=2)
    villages = list(group.villages.all())
    extra = Village.objects.exclude(pk__in=[v.pk for v in villages]).first()
    members = list(group.members.all())
    client.force_login(admin_user)
    data = _work_group_form(group, [*villages, extra], members)
    data["members-0-position"] = "分工干部（调整）"
    response = client.post(reverse("admin:cases_workgroup_change", args=[group.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    related = AuditEvent.objects.get(model="cases.WorkGroup", reason="管理后台（关联）")
    before, after = related.changes["villages"]
    assert extra.name not in before and extra.name in after and related.actor == admin_user
    row = AuditEvent.objects.get(model="cases.WorkGroupMember", reason="管理后台（明细）")
    assert row.changes["position"][1] == "分工干部（调整）"


def test_the_admin_offers_no_deletion_of_households_or_members(client, admin_user, household_a):
    client.force_login(admin_user)
    assert client.get(reverse("admin:cases_household_delete", args=[household_a.pk])).status_code == 403
    head = household_a.head()
    assert client.get(reverse("admin:cases_member_delete", args=[head.pk])).status_code == 403
    assert household_a.members.filter(pk=head.pk).exists()
