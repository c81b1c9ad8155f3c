from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import cached_property

from . import roles
from .auth import campaign_read_with
from .models import Campaign


class _Current:
    """The running campaign's complaints hotline and town for base.html (its footer, and the
    town a county account works in): from the campaign the view read already
    (`get_current_campaign`), else one small query when the page asks."""

    def __init__(self, request):
        self.request = request

    @cached_property
    def values(self) -> tuple[str, str]:
        campaign = getattr(self.request, "_dibao_campaign", None)
        if campaign is not None:
            return campaign.hotline, campaign.town.name
        user = getattr(self.request, "user", None)
        known, campaign = campaign_read_with(user) if user is not None else (False, None)
        if known:
            return (campaign.hotline, campaign.town.name) if campaign is not None else ("", "")
        current = Campaign.objects.filter(is_active=True).order_by("-created_at")
        town = roles.town_scope(user) if user is not None else None
        if town is not None:
            current = current.filter(town_id=town)
        return current.values_list("hotline", "town__name").first() or ("", "")

    def hotline(self) -> str:
        return self.values[0]

    def town(self) -> str:
        return self.values[1]


# The pages base.html links to: their addresses are the same for every request of a process (for
# its script prefix and URLconf), so each is reversed once, not by a {% url %} tag on every page.
class _Addresses(dict):
    """A URL's name -> its address, reversed when first asked for (a template cannot write a
    namespace's `:`: `admin_index` is `admin:index`)."""

    NAMESPACED = {"admin_index": "admin:index"}

    def __missing__(self, name: str) -> str:
        address = self[name] = reverse(self.NAMESPACED.get(name, name))
        return address


_NAV_URLS: dict[tuple, _Addresses] = {}


def nav_urls() -> _Addresses:
    key = (get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF)
    urls = _NAV_URLS.get(key)
    if urls is None:
        urls = _NAV_URLS[key] = _Addresses()
    return urls


def role(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        # the public pages (sign-in, errors) show the hotline too
        current = _Current(request)
        return {"hotline": current.hotline, "site_town": current.town, "nav": nav_urls()}
    role = roles.role_of(user)
    current = _Current(request)
    return {
        "hotline": current.hotline,
        "site_town": current.town,
        "user_role": role,
        "user_role_label": dict(roles.Role.choices).get(role, ""),
        "can_write_registry": roles.can_write_registry(user),
        "can_edit_campaign": roles.can_edit_campaign(user),
        "can_report_village": roles.can_report_village(user),
        "can_read_complaints": roles.can_read_complaints(user),
        "can_choose_town": roles.can_choose_town(user),
        "nav": nav_urls(),
    }
