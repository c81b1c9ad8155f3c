"""Request-wide rules: personal data is never cached, a first password is changed
before anything else, a county account works in the town it chose, and the client address
seen behind the HTTPS proxy."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection
from django.shortcuts import redirect
from django.urls import reverse

from . import prepared, roles


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or behind PROXY_COUNT trusted proxies the
    address the nearest of them appended to X-Forwarded-For (earlier entries can be forged)."""
    if settings.PROXY_COUNT:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= settings.PROXY_COUNT:
            return hops[-settings.PROXY_COUNT]
    return request.META.get("REMOTE_ADDR", "")


SEEN_KEY = "seen"
# How often an active session is renewed: the idle timeout is exact to this many seconds.
RENEW_SECONDS = 60


def mark_seen(session) -> None:
    session[SEEN_KEY] = int(time.time())


def choose_town(session, user) -> int | None:
    """A county or administrator account without a town (at sign-in, or a session from before
    there were several) works in the town running the latest campaign; it may choose another
    on the towns page. Every other account is bound to its own town."""
    if not roles.can_choose_town(user):
        return None
    from .models import Campaign

    campaign = Campaign.objects.current()
    if campaign is None:
        return None
    session[roles.TOWN_SESSION_KEY] = campaign.town_id
    return campaign.town_id


class PersonalDataMiddleware:
    """Pages for signed-in users carry personal data: no browser or proxy may keep them.
    An account whose password was set by someone else must change it first. An active
    session is renewed once a minute, so it ends SESSION_COOKIE_AGE after the last use."""

    ALLOWED_BEFORE_CHANGE = ("password_change", "password_change_done", "logout")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # the town a county or administrator account works in (roles.town_scope)
            user._dibao_chosen_town = request.session.get(roles.TOWN_SESSION_KEY)
            profile = roles.load_profile(user, user._dibao_chosen_town)
            if user._dibao_chosen_town is None:
                user._dibao_chosen_town = choose_town(request.session, user)
            if profile is not None and profile.must_change_password and not self._allowed(request):
                return redirect("password_change")
            if time.time() - request.session.get(SEEN_KEY, 0) >= RENEW_SECONDS:
                mark_seen(request.session)
        response = self.get_response(request)
        if user is not None and user.is_authenticated:
            response["Cache-Control"] = "no-store, private"
        return response

    def _allowed(self, request) -> bool:
        path = request.path_info
        if path.startswith(settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/" + settings.STATIC_URL):
            return True
        return any(path == reverse(name) for name in self.ALLOWED_BEFORE_CHANGE)


class PreparedReadsMiddleware:
    """The request's reads outside a transaction run as prepared statements on PostgreSQL
    (cases.prepared): planned once per connection, not on every page."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.wrapper = prepared.PrepareReads()

    def __call__(self, request):
        if not prepared.enabled(connection):
            return self.get_response(request)
        with connection.execute_wrapper(self.wrapper):
            return self.get_response(request)
