"""Roles and area scope: who may see which villages and who may write.

Every list starts from `visible_to(user)` querysets built on `village_scope`,
and every object view goes through an access helper built on these checks.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

ROLE_VILLAGE = "village"
ROLE_WORK_GROUP = "work_group"
ROLE_TOWN = "town"
ROLE_LEADERSHIP = "leadership"
ROLE_COUNTY = "county"
ROLE_ADMIN = "admin"

# Who may create and edit households and members.
REGISTRY_WRITERS = {ROLE_VILLAGE, ROLE_TOWN, ROLE_ADMIN}
# Who may change the campaign's configuration.
CAMPAIGN_WRITERS = {ROLE_TOWN, ROLE_ADMIN}
# Who may start, fill in, sign and submit door-to-door surveys.
SURVEY_WRITERS = {ROLE_VILLAGE, ROLE_WORK_GROUP, ROLE_TOWN, ROLE_ADMIN}
# Who may report a village's results to the town (上报).
VILLAGE_REPORTERS = {ROLE_VILLAGE, ROLE_TOWN, ROLE_ADMIN}
# Who may reveal a full ID number on a detail page (each reveal is recorded).
FULL_ID_READERS = {ROLE_VILLAGE, ROLE_TOWN, ROLE_ADMIN}


def role_of(user) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    cached = getattr(user, "_dibao_role", None)
    if cached is None:
        from cases.models import Profile

        profile = Profile.objects.filter(user=user).only("role", "village_id", "work_group_id").first()
        user._dibao_profile = profile
        cached = profile.role if profile else (ROLE_ADMIN if user.is_superuser else "")
        user._dibao_role = cached
    return cached or None


def village_scope(user) -> list[int] | None:
    """Village ids the user may see; None means every village."""
    role = role_of(user)
    if role in {ROLE_TOWN, ROLE_LEADERSHIP, ROLE_COUNTY, ROLE_ADMIN}:
        return None
    cached = getattr(user, "_dibao_villages", None)
    if cached is not None:
        return cached
    profile = getattr(user, "_dibao_profile", None)
    villages: list[int] = []
    if role == ROLE_VILLAGE and profile:
        villages = [profile.village_id]
    elif role == ROLE_WORK_GROUP and profile:
        from cases.models import Village

        villages = list(Village.objects.filter(work_groups=profile.work_group_id).values_list("id", flat=True))
    user._dibao_villages = villages
    return villages


def covers_village(user, village_id: int) -> bool:
    scope = village_scope(user)
    return scope is None or village_id in scope


def can_write_registry(user) -> bool:
    return role_of(user) in REGISTRY_WRITERS


def can_edit_campaign(user) -> bool:
    return role_of(user) in CAMPAIGN_WRITERS


def can_survey(user) -> bool:
    return role_of(user) in SURVEY_WRITERS


def can_report_village(user) -> bool:
    return role_of(user) in VILLAGE_REPORTERS


def can_read_full_ids(user) -> bool:
    return role_of(user) in FULL_ID_READERS


def require(allowed: bool) -> None:
    """403 for a role that may see but not change."""
    if not allowed:
        raise PermissionDenied("您的角色没有修改权限。")
