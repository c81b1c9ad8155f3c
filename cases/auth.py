"""The account behind every signed-in request, read in one statement.

Django's ModelBackend reads the user; the first check of a role read the profile; most pages
read the running campaign (its phase, its rules, the footer's hotline): three small queries on
every page, whose compiling took longer than the database took to answer them.
`AccountBackend.get_user` reads the user with their profile, the running campaign of their own
town with that town (`access.get_current_campaign`, the footer) and the lowest and highest town
of any village (whether a list needs the town's filter, `roles.load_profile`) by one statement
written once (`compiled.one_with_related`). Signing in and permissions are ModelBackend's.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from . import roles
from .compiled import Attached, one_with_related, quoted
from .models import Campaign, Village

_SHAPES: dict[str, tuple[tuple, tuple]] = {}


def _shape(alias: str) -> tuple[tuple, tuple]:
    """The statement's joined campaign and its extra columns, written from the models."""
    if alias in _SHAPES:
        return _SHAPES[alias]

    def column(model, name: str) -> str:
        return quoted(alias, model, name)

    profile = get_user_model()._meta.get_field("profile").related_model
    campaign, village = quoted(alias, Campaign), quoted(alias, Village)
    # Campaign.objects.current(town) of the profile's (t1) town: its latest active campaign
    running = Attached(
        "dibao_campaign",
        Campaign,
        f"{{t}}.{column(Campaign, 'id')} = (SELECT c.{column(Campaign, 'id')} FROM {campaign} c"  # noqa: S608 - names from the models
        f" WHERE c.{column(Campaign, 'is_active')} AND c.{column(Campaign, 'town')} = t1.{column(profile, 'town')}"
        f" ORDER BY c.{column(Campaign, 'created_at')} DESC, c.{column(Campaign, 'id')} DESC LIMIT 1)",
    )
    towns = tuple(
        (f"dibao_village_town_{name}", f"SELECT {function}(v.{column(Village, 'town')}) FROM {village} v")  # noqa: S608 - names from the models
        for name, function in (("min", "MIN"), ("max", "MAX"))
    )
    _SHAPES[alias] = ((running,), towns)
    return _SHAPES[alias]


def read_account(user_id):
    """The user by primary key with `profile` (None when they have none), `dibao_campaign` (their
    own town's running campaign with its town, or None) and `dibao_village_town_min`/`_max`;
    or None."""
    model = get_user_model()
    attached, extra = _shape(model._default_manager.db)
    related = ("profile", "dibao_campaign", "dibao_campaign__town")
    return one_with_related(model, model._meta.pk.name, user_id, related=related, extra=extra, attached=attached)


class AccountBackend(ModelBackend):
    def get_user(self, user_id):
        user = read_account(user_id)
        if user is None or not self.user_can_authenticate(user):
            return None
        # what roles.profile_of would read
        user._dibao_profile = user._state.fields_cache.get("profile")
        return user


def campaign_read_with(user) -> tuple[bool, Campaign | None]:
    """(True, the campaign) when the account's statement read the campaign the user works in (a
    town-bound account's own town's: `roles.town_scope`), None if that town runs none; else
    (False, None): a county account's chosen town, or a user read another way."""
    profile = roles.profile_of(user) if hasattr(user, "dibao_campaign") else None
    if profile is None or profile.town_id is None or profile.town_id != roles.town_scope(user):
        return False, None
    return True, user.dibao_campaign
