"""Sign-in events in the audit trail: who signed in or out, and failed attempts; the town a
county account starts in."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from . import roles
from .middleware import choose_town, client_ip, mark_seen
from .models import AuditEvent


def _event(action: str, *, user=None, username: str = "", request=None) -> None:
    where = client_ip(request) if request is not None else ""
    AuditEvent.objects.create(
        actor=user,
        action=action,
        model="auth.User",
        object_id=str(user.pk) if user else "",
        object_repr=(user.get_username() if user else username)[:40],
        reason=f"来自 {where}" if where else "",
    )


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        mark_seen(request.session)
        if roles.TOWN_SESSION_KEY not in request.session:
            choose_town(request.session, user)
    _event(AuditEvent.Action.LOGIN, user=user, request=request)


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        _event(AuditEvent.Action.LOGOUT, user=user, request=request)


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    _event(AuditEvent.Action.LOGIN_FAILED, username=str(credentials.get("username", "")), request=request)
