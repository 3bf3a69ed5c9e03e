"""The audit log: who changed what, and when. Written in the same transaction as the change."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.models import AuditEvent


def utcnow() -> datetime:
    return datetime.now(tz=UTC)


SUBJECT_LENGTH = 200  # the width of audit_event.subject


def record(session: Session, actor: str, action: str, subject: str, **detail: Any) -> None:
    """Add an audit event to the caller's transaction, so it commits or rolls back with the change.

    A subject too long for its column (an imported file's long name) is cut short and kept whole
    in the detail: PostgreSQL would refuse it, and with it the change being recorded.
    """
    if len(subject) > SUBJECT_LENGTH:
        detail["subject"] = subject
        subject = subject[: SUBJECT_LENGTH - 1] + "…"
    session.add(
        AuditEvent(
            at=utcnow(), actor=actor, action=action, subject=subject,
            detail=json.dumps(detail, default=str, sort_keys=True, ensure_ascii=False),
        )
    )


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]


def read_log(session: Session, since: datetime | None = None, limit: int | None = None) -> list[AuditLine]:
    query = select(AuditEvent).order_by(AuditEvent.at, AuditEvent.id)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if limit is not None:
        query = query.limit(limit)
    return [
        AuditLine(event.at, event.actor, event.action, event.subject, json.loads(event.detail or "{}"))
        for event in session.scalars(query)
    ]
