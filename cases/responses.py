"""Responses shared by the views of every app."""

from __future__ import annotations

from django.shortcuts import render

from .audit import display_changes
from .services import StaleEdit


def conflict(request, error: StaleEdit, *, back_url: str):
    """HTTP 409: the record changed since the form was opened; show the other person's change."""
    event = error.event
    return render(
        request,
        "conflict.html",
        {
            "message": error.message,
            "event": event,
            "changes": display_changes(event) if event is not None else [],
            "back_url": back_url,
        },
        status=409,
    )
