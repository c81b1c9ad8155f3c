"""`{% household_flags household %}`: a household's open department flags, on the survey,
re-visit and decision pages (one query)."""

from django import template

from cases import roles
from cases.models import HouseholdFlag
from surveys import departments

register = template.Library()


@register.inclusion_tag("cases/_flags.html", takes_context=True)
def household_flags(context, household):
    """The household's open flags of the running campaign; the department's figures and list only
    for the roles that see the whole town (a village's users see each flag's kind)."""
    user = context["request"].user
    flags = (
        HouseholdFlag.objects.filter(household=household, status=HouseholdFlag.Status.OPEN, campaign__is_active=True)
        .select_related("member", "record__department_list")
        .order_by("created_at", "id")
    )
    return {
        "flags": list(flags),
        "detail": departments.sees_department_detail(user),
        "can_clear": roles.can_edit_campaign(user),
    }
