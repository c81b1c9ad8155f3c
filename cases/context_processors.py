from . import roles
from .models import Campaign


def _hotline(request):
    """The running campaign's complaints hotline for base.html's footer: from the campaign the
    view read already (`get_current_campaign`), else one small query when the footer asks."""

    def hotline() -> str:
        campaign = getattr(request, "_dibao_campaign", None)
        if campaign is not None:
            return campaign.hotline
        current = Campaign.objects.filter(is_active=True).order_by("-created_at")
        return current.values_list("hotline", flat=True).first() or ""

    return hotline


def role(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        # the public pages (sign-in, errors) show the hotline too
        return {"hotline": _hotline(request)}
    role = roles.role_of(user)
    return {
        "hotline": _hotline(request),
        "user_role": role,
        "user_role_label": dict(roles.Role.choices).get(role, ""),
        "can_write_registry": roles.can_write_registry(user),
        "can_edit_campaign": roles.can_edit_campaign(user),
        "can_report_village": roles.can_report_village(user),
        "can_read_complaints": roles.can_read_complaints(user),
    }
