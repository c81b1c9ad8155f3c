"""Small helpers shared by the list pages of every app."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.urls import reverse

PLACEHOLDER = "00000000-0000-0000-0000-000000000000"


def page_size() -> int:
    return settings.LIST_PAGE_SIZE


def url_maker(name: str) -> Callable[[object], str]:
    """A function from a public id to the URL `name` takes it in; reverses once for a whole page of rows."""
    pattern = reverse(name, args=[PLACEHOLDER])
    return lambda public_id: pattern.replace(PLACEHOLDER, str(public_id))
