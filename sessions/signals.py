"""Signals of the session engine, for apps above it (notifications)."""

from django.dispatch import Signal

# Sent after sessions of ``user_id`` (a str) were revoked: ``count`` of them were live.
sessions_revoked = Signal()
