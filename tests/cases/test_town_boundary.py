"""The boundary between towns: an account of one town (蜀山镇, "town B") neither reads nor
changes data of another (泥汊镇, "town A"), and a county or administrator account does not mix
towns. The tests marked "Was:" guard holes found by a review of the several-towns change and
closed since (accounts, roll import, department lists, the complaint form, investigators and
verifiers, a county session without a chosen town)."""

import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from cases import roles, services
from cases.importer import HEADERS, match_headers, read_table
from cases.models import Case, Complaint, DepartmentRecord, Household, HouseholdFlag
from reports import list_exports
from surveys import revisits
from surveys import services as survey_services
from surveys.departments import SPECS, check_list, import_list
from surveys.models import ScreeningEntry
from tests.conftest import PASSWORD, new_id

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- fixtures: second_town and records (tests/cases/conftest.py) --------------------------------


@pytest.fixture
def records_a(campaign, records, household_a, town_office):
    """The shared records (a green-channel application, a temporary-aid record, a complaint) and
    a survey, all of 泥汊镇's 湖滨村."""
    survey = survey_services.start_survey(household_a, campaign=campaign, actor=town_office, late_reason="测试")
    return {**records, "survey": survey}


def _xlsx(headers, rows, name="名单.xlsx") -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(list(row))
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=XLSX)


def _roll_row(**values) -> list:
    row = dict.fromkeys(HEADERS, None)
    row.update(values)
    return [row[h] for h in HEADERS]


def _town_a_object_urls(household, records):
    member = household.head()
    return {
        "household_detail": reverse("household_detail", args=[household.public_id]),
        "household_edit": reverse("household_edit", args=[household.public_id]),
        "member_add": reverse("member_add", args=[household.public_id]),
        "member_edit": reverse("member_edit", args=[member.public_id]),
        "member_change": reverse("member_change", args=[member.public_id]),
        "survey_household": reverse("survey_household", args=[household.public_id]),
        "survey_detail": reverse("survey_detail", args=[records["survey"].public_id]),
        "survey_edit": reverse("survey_edit", args=[records["survey"].public_id]),
        "survey_pdf": reverse("survey_pdf", args=[records["survey"].public_id]),
        "survey_village": reverse("survey_village", args=[household.village.code]),
        "green_detail": reverse("green_detail", args=[records["green"].public_id]),
        "green_create_for": f"{reverse('green_create')}?household={household.public_id}",
        "aid_detail": reverse("aid_detail", args=[records["aid"].public_id]),
        "complaint_detail": reverse("complaint_detail", args=[records["complaint"].public_id]),
        "review_decide": reverse("review_decide", args=[household.public_id]),
        "review_notice": reverse("review_notice", args=[household.village.code]),
        "document_notice": reverse("document_notice", args=[household.village.code, "pdf"]),
        "list_export_village": reverse("list_export_village", args=[household.village.code]),
        "training_village": f"{reverse('training_list')}?village={household.village.code}",
    }


# --- holes found by the review, closed ------------------------------------------------------


def test_town_office_account_list_shows_only_its_own_towns_accounts(client, second_town, cadre_a):
    """Was: /accounts/manage/ lists every village and work-group account of the installation
    (cases.views.accounts filters on the role only), so 蜀山镇's office sees 泥汊镇's cadres."""
    client.force_login(second_town["officer"])
    page = client.get(reverse("accounts")).content.decode()
    assert "cadre02" not in page


def test_town_office_cannot_reset_another_towns_cadre_password(client, second_town, cadre_a):
    """Was: 蜀山镇's office resets the password of 泥汊镇's village cadre and is shown the new
    temporary password (cases.views._managed_user / services._managed_profile check the role only):
    a take-over of an account of another town."""
    client.force_login(second_town["officer"])
    response = client.post(reverse("account_reset", args=[cadre_a.username]))
    cadre_a.refresh_from_db()
    assert response.status_code == 404
    assert cadre_a.check_password(PASSWORD)


def test_town_office_cannot_deactivate_another_towns_cadre(client, second_town, cadre_a):
    """Was: 蜀山镇's office deactivates 泥汊镇's village cadre (account_active, same helper)."""
    client.force_login(second_town["officer"])
    client.post(reverse("account_active", args=[cadre_a.username]), {"active": "0", "reason": "测试"})
    cadre_a.refresh_from_db()
    assert cadre_a.is_active


def test_roll_import_cannot_take_over_another_towns_household(client, second_town, household_a, village_a):
    """Was: 蜀山镇's office imports a roll whose head ID number is that of a 泥汊镇 head: the check
    (importer._check_against_registry) and services.import_roll match the live member across
    every town, so 泥汊镇's household is updated and moved into 蜀山镇's village — and from then on
    read (all members, full IDs on reveal) and written by 蜀山镇."""
    head = household_a.head()
    rows = [
        _roll_row(
            **{
                "村（社区）": "山前村",
                "户主身份证号": head.id_number,
                "姓名": head.name,
                "身份证号": head.id_number,
                "与户主关系": "户主",
                "户籍类型": "农村",
                "低保状态": "未在保",
            }
        )
    ]
    client.force_login(second_town["officer"])
    client.post(reverse("import_roll"), {"file": _xlsx(HEADERS, rows, "花名册.xlsx")})
    household_a.refresh_from_db()
    listing = client.get(reverse("household_list")).content.decode()
    found = {
        "moved to 山前村": household_a.village != village_a,
        "taken out of dibao": household_a.dibao_status != Household.DibaoStatus.ACTIVE,
        "now on 蜀山镇's list": "张建国" in listing,
        "detail readable by 蜀山镇": client.get(reverse("household_detail", args=[household_a.public_id])).status_code
        == 200,
    }
    assert not any(found.values()), found


def test_roll_import_error_does_not_name_another_towns_member(client, second_town, household_a):
    """Was: a roll row carrying the ID number of a 泥汊镇 member is refused with a message naming
    that member and village (importer._check_against_registry: "已登记在湖滨村李秀英所在的另一户中"),
    an oracle on the whole county's registry for any town office."""
    spouse = household_a.members.get(name="李秀英")
    head_id = new_id()
    rows = [
        _roll_row(
            **{
                "村（社区）": "山前村",
                "户主身份证号": head_id,
                "姓名": "新户主",
                "身份证号": head_id,
                "与户主关系": "户主",
                "户籍类型": "农村",
            }
        ),
        _roll_row(**{"户主身份证号": head_id, "姓名": "某", "身份证号": spouse.id_number, "与户主关系": "配偶"}),
    ]
    client.force_login(second_town["officer"])
    page = client.post(reverse("import_roll"), {"file": _xlsx(HEADERS, rows, "花名册.xlsx")}).content.decode()
    assert "已登记" in page  # refused, as it should be
    assert spouse.name not in page and "湖滨村" not in page


SOCIAL = ["姓名", "身份证号", "月养老金", "养老保险类型", "就业状态", "失业保险金"]


def _import_department_list(campaign, actor, department, headers, rows):
    schema = SPECS[department].schema
    table = read_table(_xlsx(headers, rows), schema)
    mapping = match_headers(table.headers, schema)
    check = check_list(department, table, mapping, town=campaign.town)
    assert check.ok, check.errors
    saved = import_list(
        campaign,
        check,
        actor=actor,
        department=department,
        source="县直部门",
        as_of=dt.date(2019, 10, 20),
        filename="名单.xlsx",
        due_on=timezone.localdate() + dt.timedelta(days=10),
    )
    return check, saved


def test_department_list_is_matched_with_its_own_towns_registry_only(client, second_town, household_a):
    """Was: a department list uploaded by 蜀山镇 is matched by ID number against every town's
    registry (surveys.departments.import_list: Member.objects.filter(id_number__in=...)): the row
    of a 泥汊镇 person is "花名册中有", linked to 泥汊镇's household, and a flag is raised on that
    household in 蜀山镇's campaign, with 泥汊镇's registry facts in its detail; 蜀山镇's flag list
    (departments.flags_visible_to: campaign only) then names the person and 湖滨村."""
    head = household_a.head()
    officer = second_town["officer"]
    _, saved = _import_department_list(
        second_town["campaign"], officer, "social", SOCIAL, [(head.name, head.id_number, "1800", "", "", "")]
    )
    client.force_login(officer)
    flags = client.get(reverse("department_flags"), {"status": "all"}).content.decode()
    found = {
        "record linked to the other town's household": DepartmentRecord.objects.filter(household=household_a).exists(),
        "counted as in the registry": saved.matched > 0,
        "flag raised on the other town's household": HouseholdFlag.objects.filter(household=household_a).exists(),
        "flag list names the person and village": "张建国" in flags and "湖滨村" in flags,
    }
    assert not any(found.values()), found


def test_department_list_check_does_not_name_another_towns_member(second_town, household_a):
    """Was: checking 蜀山镇's list warns that the registry holds the ID number under another name,
    and names it (departments.check_list/_live_names read every town's registry): any name of the
    county's registry can be read by ID number."""
    head = household_a.head()
    check, _ = _import_department_list(
        second_town["campaign"],
        second_town["officer"],
        "social",
        SOCIAL,
        [("别名", head.id_number, "1800", "", "", "")],
    )
    assert not any(head.name in w.message for w in check.warnings)


def test_complaint_form_offers_only_the_towns_villages_and_handlers(client, second_town, village_a, town_office):
    """Was: 蜀山镇's complaint form offers every village and every town office of the installation
    (assistance_views.complaint_create: Village.objects unscoped; complaints.handlers(): every TOWN
    account), and a complaint of 蜀山镇's campaign is saved about 湖滨村 and given to 泥汊镇's office,
    who cannot even open it."""
    client.force_login(second_town["officer"])
    page = client.get(reverse("complaint_create")).content.decode()
    assert "湖滨村" not in page and 'value="town"' not in page
    client.post(
        reverse("complaint_create"),
        {
            "channel": "phone",
            "received_on": timezone.localdate().isoformat(),
            "anonymous": "on",
            "subject": "person",
            "subject_name": "某人",
            "village": village_a.code,
            "content": "举报内容",
            "handler": town_office.username,
        },
    )
    assert not Complaint.objects.filter(campaign=second_town["campaign"], village=village_a).exists()
    assert not Complaint.objects.filter(campaign=second_town["campaign"], handler=town_office).exists()


def test_investigators_and_verifiers_are_of_the_households_town(second_town, household_a):
    """Was: the investigators offered (and accepted by set_investigators/sign_survey) for a 泥汊镇
    household include 蜀山镇's office (surveys.services.investigator_candidates: every TOWN
    account); the town's re-visit verifiers likewise (surveys.revisits.verifier_candidates takes
    no town at all)."""
    officer = second_town["officer"]
    assert officer not in survey_services.investigator_candidates(household_a)
    assert officer not in revisits.verifier_candidates("town", household_a.village.town_id)


def test_an_administrator_without_a_chosen_town_does_not_mix_towns(
    client, second_town, admin_user, make_household, village_a
):
    """Was: an administrator (or county) session without roles.TOWN_SESSION_KEY — signed in before
    any campaign existed, or a session from before the upgrade (the key is only set at sign-in) —
    has town_scope None: lists span every town while get_current_campaign picks the latest
    campaign (蜀山镇's), so a 泥汊镇 household is put on 蜀山镇's screening list (a case row of
    蜀山镇's campaign for a household of 泥汊镇)."""
    edge = make_household(village_a, head="边缘户主", others=(), dibao=False)
    client.force_login(admin_user)
    session = client.session
    del session[roles.TOWN_SESSION_KEY]
    session.save()
    listing = client.get(reverse("household_list")).content.decode()
    campaign_page = client.get(reverse("campaign_detail")).content.decode()
    client.post(reverse("survey_screening_add", args=[edge.public_id]), {"kind": "edge"})
    found = {
        "registry of both towns on one list": "边缘户主" in listing and "山前户主" in listing,
        "working in 蜀山镇's campaign": "蜀山镇低保复核攻坚月" in campaign_page,
        "泥汊镇 household on 蜀山镇's screening list": ScreeningEntry.objects.filter(
            campaign=second_town["campaign"], household=edge
        ).exists(),
        "case row of 蜀山镇's campaign for it": Case.objects.filter(
            campaign=second_town["campaign"], household=edge
        ).exists(),
    }
    mixed = found["registry of both towns on one list"] or found["泥汊镇 household on 蜀山镇's screening list"]
    assert not mixed, found


# --- boundaries that hold -------------------------------------------------------------------------


def test_town_b_office_gets_404_for_every_town_a_object(client, second_town, household_a, records_a):
    client.force_login(second_town["officer"])
    for name, url in _town_a_object_urls(household_a, records_a).items():
        assert client.get(url).status_code == 404, name


def test_county_in_town_b_gets_404_for_town_a_objects(client, second_town, household_a, records_a, county_officer):
    client.force_login(county_officer)
    assert client.session[roles.TOWN_SESSION_KEY] == second_town["town"].pk
    for name, url in _town_a_object_urls(household_a, records_a).items():
        if name in {"household_edit", "member_add", "member_edit", "member_change", "green_create_for"}:
            continue  # writes: 403 for the county before any lookup
        assert client.get(url).status_code == 404, name


def test_town_b_office_cannot_write_on_town_a_objects(client, second_town, household_a, records_a, village_a):
    client.force_login(second_town["officer"])
    h = household_a.public_id
    posts = [
        (reverse("household_reveal_ids", args=[h]), {}),
        (reverse("survey_start", args=[h]), {"late_reason": "x"}),
        (reverse("survey_screening_add", args=[h]), {"kind": "edge"}),
        (reverse("survey_screening_remove", args=[h]), {"reason": "x"}),
        (reverse("survey_submit", args=[records_a["survey"].public_id]), {}),
        (reverse("review_decide", args=[h]), {"outcome": "keep"}),
        (reverse("survey_report", args=[village_a.code]), {}),
        (reverse("review_notice_open", args=[village_a.code]), {}),
        (reverse("export_village", args=[village_a.code]), {}),
        (reverse("complaint_note", args=[records_a["complaint"].public_id]), {"note-text": "x"}),
        (reverse("green_lapse", args=[records_a["green"].public_id]), {"lapse-reason": "x"}),
        (reverse("aid_decide", args=[records_a["aid"].public_id]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    assert not Case.objects.filter(campaign=second_town["campaign"], household=household_a).exists()
    assert not records_a["complaint"].notes.exists()


def test_town_b_lists_and_searches_show_nothing_of_town_a(client, second_town, household_a, records_a):
    head = household_a.head()
    client.force_login(second_town["officer"])
    pages = [
        reverse("household_list"),
        f"{reverse('household_list')}?q={head.id_number}",
        f"{reverse('household_list')}?q=张建",
        f"{reverse('green_create')}?q=张建国",
        f"{reverse('aid_create')}?q=张建国",
        reverse("green_list"),
        reverse("aid_list"),
        reverse("complaint_list"),
        reverse("survey_coverage"),
        reverse("survey_screening"),
        reverse("review_decisions"),
        reverse("review_notices"),
        reverse("review_county"),
        reverse("department_home"),
        reverse("department_tasks"),
        reverse("dashboard"),
        reverse("home"),
        reverse("documents"),
        reverse("campaign_detail"),
    ]
    for url in pages:
        page = client.get(url).content.decode()
        # (a search page repeats the text searched for, and the picker's placeholder reads 如：张建国)
        shown = page.replace('value="张建国"', "").replace("如：张建国", "").replace(f'value="{head.id_number}"', "")
        assert "张建国" not in shown and "湖滨村" not in shown and "赵春花" not in shown, url
        assert str(household_a.public_id) not in page, url


def test_list_exports_in_the_request_and_on_the_worker_keep_to_the_town(
    client, second_town, household_a, county_officer
):
    client.force_login(second_town["officer"])
    response = client.get(reverse("list_export", args=["households"]))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)))["家庭"]
    names = {row[3] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert "山前户主" in names and "张建国" not in names
    # the worker: no session, the chosen town comes with the job
    county = get_user_model().objects.get(pk=county_officer.pk)
    county._dibao_chosen_town = second_town["town"].pk
    listing = list_exports.households(county, {})
    assert listing.count == 1 and listing.campaign == second_town["campaign"]
    officer = get_user_model().objects.get(pk=second_town["officer"].pk)  # town-bound, no chosen town
    assert list_exports.households(officer, {}).count == 1


def test_an_id_clash_in_the_registry_does_not_name_another_towns_member(second_town, household_a):
    spouse = household_a.members.get(name="李秀英")
    with pytest.raises(services.DomainError) as refused:
        services.add_member(
            second_town["household"],
            actor=second_town["officer"],
            data={"name": "某", "id_number": spouse.id_number, "relationship": "spouse"},
            joined_on=dt.date(2000, 1, 1),
            reason="登记",
        )
    assert spouse.name not in refused.value.message and "湖滨村" not in refused.value.message
