"""Django's database sessions (SESSION_ENGINE), read on every signed-in request by a statement
written once (`compiled.one_with_related`) instead of a queryset compiled anew each time."""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.utils import timezone

from .compiled import one_with_related


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        session = one_with_related(self.model, "session_key", self.session_key)
        if session is None or session.expire_date <= timezone.now():
            self._session_key = None
            return None
        return session
