"""Roles and area scope: who may see which villages and who may write.

One definition of each role. Every list starts from `visible_to(user)`
querysets built on `village_scope`, and every object view goes through an
access helper built on these checks. This module imports no model: it reaches
the user's profile through the user's own relations, so models may import it.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    VILLAGE = "village", _("村干部")
    WORK_GROUP = "work_group", _("工作组")
    TOWN = "town", _("镇社会事务办")
    LEADERSHIP = "leadership", _("领导组（只读）")
    COUNTY = "county", _("县民政局")
    ADMIN = "admin", _("系统管理员")


# Roles that see every village of the installation.
WHOLE_AREA = {Role.TOWN, Role.LEADERSHIP, Role.COUNTY, Role.ADMIN}
# Who may create and edit households and members.
REGISTRY_WRITERS = {Role.VILLAGE, Role.TOWN, Role.ADMIN}
# Who may change the campaign's configuration and the screening list.
CAMPAIGN_WRITERS = {Role.TOWN, Role.ADMIN}
# Who may start, fill in, sign and submit door-to-door surveys.
SURVEY_WRITERS = {Role.VILLAGE, Role.WORK_GROUP, Role.TOWN, Role.ADMIN}
# Who may act as an investigator on a survey (a person, not the system administrator).
INVESTIGATORS = {Role.VILLAGE, Role.WORK_GROUP, Role.TOWN}
# Who may act outside a phase's dates, with a recorded reason.
PHASE_OVERRIDERS = {Role.TOWN, Role.ADMIN}
# Who may report a village's results to the town (上报).
VILLAGE_REPORTERS = {Role.VILLAGE, Role.TOWN, Role.ADMIN}
# Who may spot-check, approve and return the town's decisions (phase 4).
# Not the administrator: whoever may decide for the town must not also approve (separation of duties).
COUNTY_REVIEWERS = {Role.COUNTY}
# Who may reveal a full ID number on a detail page (each reveal is recorded).
FULL_ID_READERS = {Role.VILLAGE, Role.TOWN, Role.ADMIN}
# 抓调整 (二、4): the green channel's 容缺受理 rests on the village committee's consent and the
# temporary-aid application starts in the village, so the village's cadre takes both in for
# their own village (as with the registry); the town office does everything else.
ASSISTANCE_INTAKE = {Role.VILLAGE, Role.TOWN, Role.ADMIN}
# The green channel's approval is the county's (三、3: 按“容缺受理”程序及时上报县民政局审批).
GREEN_APPROVERS = {Role.COUNTY, Role.ADMIN}
# Temporary aid is approved by level, each up to its limit (campaign settings); the county
# approves above the town's limit.
AID_LEVELS = {Role.VILLAGE: "village", Role.TOWN: "town", Role.COUNTY: "county"}
# Complaints (四、3) are the town's: they are often about how a village surveyed a household
# or about a cadre, and the household named is re-checked by the higher level, so village and
# work-group users neither take them nor see them (nor who complained).
COMPLAINT_READERS = WHOLE_AREA
COMPLAINT_HANDLERS = {Role.TOWN, Role.ADMIN}


def profile_of(user):
    """The user's profile (one query, then cached on the user object)."""
    if not getattr(user, "is_authenticated", False):
        return None
    if not hasattr(user, "_dibao_profile"):
        try:
            user._dibao_profile = user.profile
        except ObjectDoesNotExist:
            user._dibao_profile = None
    return user._dibao_profile


def role_of(user) -> str | None:
    profile = profile_of(user)
    if profile is not None:
        return profile.role
    if getattr(user, "is_authenticated", False) and user.is_superuser:
        return Role.ADMIN
    return None


def village_scope(user) -> list[int] | None:
    """Village ids the user may see; None means every village."""
    role = role_of(user)
    if role in WHOLE_AREA:
        return None
    cached = getattr(user, "_dibao_villages", None)
    if cached is not None:
        return cached
    profile = profile_of(user)
    villages: list[int] = []
    if role == Role.VILLAGE:
        villages = [profile.village_id]
    elif role == Role.WORK_GROUP:
        village_model = profile._meta.get_field("village").related_model
        villages = list(village_model.objects.filter(work_groups=profile.work_group_id).values_list("id", flat=True))
    user._dibao_villages = villages
    return villages


# The roles bound to one town (their profile names it); the county and the administrator work
# across the county's towns, in the town they chose (`TOWN_SESSION_KEY`, see town_views).
TOWN_BOUND = {Role.VILLAGE, Role.WORK_GROUP, Role.TOWN, Role.LEADERSHIP}
TOWN_SESSION_KEY = "dibao_town"


def town_scope(user) -> int | None:
    """The town whose villages, registry and campaign the user works in: their own town, or the
    one a county or administrator account chose; None: every town of the installation."""
    if role_of(user) in TOWN_BOUND:
        return profile_of(user).town_id
    return getattr(user, "_dibao_chosen_town", None)


def load_profile(user, chosen_town: int | None = None):
    """The signed-in user's profile for this request (middleware), with whether any village lies
    outside the town they work in: in an installation of one town no list needs the town's
    filter (a join that doubles the cost of counting the registry). An account read by
    `cases.auth` brought both with it; otherwise one query. Without this (a service called
    outside a request) lists are filtered."""
    if hasattr(user, "_dibao_profile"):
        profile = user._dibao_profile
        lowest = getattr(user, "dibao_village_town_min", None)  # read with the user (cases.auth)
        if profile is not None and lowest is not None and not hasattr(profile, "villages_elsewhere"):
            own = profile.town_id or chosen_town
            profile.villages_elsewhere = not (lowest == user.dibao_village_town_max == own)
        return profile
    profile_model = user._meta.get_field("profile").related_model
    village_model = profile_model._meta.get_field("village").related_model
    # written out: the ORM's Exists(...) took longer to compile than the query takes to run
    sql = (
        f"SELECT p.*, EXISTS(SELECT 1 FROM {village_model._meta.db_table} v"  # noqa: S608 - table names
        f" WHERE v.town_id <> COALESCE(p.town_id, %s)) AS villages_elsewhere"
        f" FROM {profile_model._meta.db_table} p WHERE p.user_id = %s"
    )
    profile = next(iter(profile_model.objects.raw(sql, [chosen_town or 0, user.pk])), None)
    if profile is not None:
        profile.villages_elsewhere = bool(profile.villages_elsewhere)  # SQLite answers 0 or 1
    user._dibao_profile = profile
    if profile is not None:
        user._state.fields_cache["profile"] = profile  # what user.profile reads
    return profile


def town_filter(user) -> int | None:
    """The town the user's lists must be narrowed to: None when every village is of it."""
    town = town_scope(user)
    if town is not None and getattr(profile_of(user), "villages_elsewhere", True) is False:
        return None
    return town


def can_choose_town(user) -> bool:
    return role_of(user) in {Role.COUNTY, Role.ADMIN}


def town_q(user, campaign: str = "campaign") -> models.Q:
    """The filter of rows of a campaign (the path `campaign`) of the user's town."""
    town = town_scope(user)
    return models.Q() if town is None else models.Q(**{f"{campaign}__town_id": town})


def area_q(user, village: str = "village") -> models.Q:
    """The filter of rows whose village (the path `village`) the user's area covers: their
    villages, else their town's."""
    return area_filter(*area_of(user), village)


def area_of(user) -> tuple[list[int] | None, int | None]:
    """The user's area as values: their villages' ids, else (None and) their town's id when
    lists must be narrowed to it (`town_filter`), else (None, None)."""
    scope = village_scope(user)
    return scope, town_filter(user) if scope is None else None


def area_filter(villages: list[int] | None, town: int | None, village: str = "village") -> models.Q:
    """`area_q` of an area given as values (`area_of`)."""
    if villages is not None:
        return models.Q(**{f"{village}_id__in": villages})
    return models.Q() if town is None else models.Q(**{f"{village}__town_id": town})


def covers_village(user, village) -> bool:
    """Whether the user's area covers `village` (a Village): one of their villages, or a village
    of their town."""
    scope = village_scope(user)
    if scope is not None:
        return village.pk in scope
    town = town_scope(user)
    return town is None or village.town_id == town


def can_write_registry(user) -> bool:
    return role_of(user) in REGISTRY_WRITERS


def can_edit_campaign(user) -> bool:
    return role_of(user) in CAMPAIGN_WRITERS


def can_survey(user) -> bool:
    return role_of(user) in SURVEY_WRITERS


def can_override_phase(user) -> bool:
    return role_of(user) in PHASE_OVERRIDERS


def can_report_village(user) -> bool:
    return role_of(user) in VILLAGE_REPORTERS


def can_review_county(user) -> bool:
    return role_of(user) in COUNTY_REVIEWERS


def can_see_samples(user) -> bool:
    """Which households the town or the county re-visits (and which it checks in full): for the
    roles that see the whole town — a village must not know in advance which of its households
    will be visited."""
    return village_scope(user) is None


def can_read_town_report(user) -> bool:
    """The town's written report and the county's closing report: the town office, the county
    and the leadership group; not a village's or a work group's account."""
    return village_scope(user) is None


def can_see_reporters(user) -> bool:
    """Who objected to a 公示 or reported a complaint, and how to reach them: for the town office
    that handles them and the county, not for the village named nor every reader."""
    return role_of(user) in CAMPAIGN_WRITERS | COUNTY_REVIEWERS


def can_read_full_ids(user) -> bool:
    return role_of(user) in FULL_ID_READERS


def can_take_assistance(user) -> bool:
    return role_of(user) in ASSISTANCE_INTAKE


def can_approve_green(user) -> bool:
    return role_of(user) in GREEN_APPROVERS


def aid_level(user) -> str | None:
    """The level (TemporaryAid.Level) at which the user approves temporary aid; "any" for the
    administrator, None for a role that does not."""
    role = role_of(user)
    return "any" if role == Role.ADMIN else AID_LEVELS.get(role)


def can_read_complaints(user) -> bool:
    return role_of(user) in COMPLAINT_READERS


def can_handle_complaints(user) -> bool:
    return role_of(user) in COMPLAINT_HANDLERS


def require(allowed: bool) -> None:
    """403 for a role that may see but not change."""
    if not allowed:
        raise PermissionDenied("您的角色没有修改权限。")


CAPABILITIES = [
    ("查看", None),
    ("修改花名册", REGISTRY_WRITERS),
    ("入户调查（填写、签字、提交）", SURVEY_WRITERS),
    ("村级上报", VILLAGE_REPORTERS),
    ("查看完整身份证号（留痕）", FULL_ID_READERS),
    ("行动设置、导入、排查名单", CAMPAIGN_WRITERS),
    ("镇级抽样核查、决定、公示、报县", CAMPAIGN_WRITERS),
    ("县级抽查、审批或退回", COUNTY_REVIEWERS),
    ("绿色通道受理、临时救助申请与先行救助", ASSISTANCE_INTAKE),
    ("绿色通道审批", GREEN_APPROVERS),
    ("临时救助审批（按层级限额）", set(AID_LEVELS) | {Role.ADMIN}),
    ("投诉举报受理与办理", COMPLAINT_HANDLERS),
]
AREAS = {
    Role.VILLAGE: "本村（社区）",
    Role.WORK_GROUP: "工作组负责的村",
    Role.TOWN: "本镇",
    Role.LEADERSHIP: "本镇（只读）",
    Role.COUNTY: "全县各乡镇（只读）",
    Role.ADMIN: "全部",
}


def capability_table() -> list[tuple[str, str, list[bool]]]:
    """(role, area, [may do each of CAPABILITIES]) for the page that says who can do what where."""
    return [
        (role.label, AREAS[role], [allowed is None or role in allowed for _label, allowed in CAPABILITIES])
        for role in Role
    ]
