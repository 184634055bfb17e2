"""Export of a period's audit log as JSON Lines, for a SIEM; the export is itself audited."""

import json
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Connection, func, select
from sqlmodel import Session

from app.audit.chain import EVENTS, events_with_persons, plain
from app.audit.writer import write_system_event


def export_lines(connection: Connection, since: datetime, until: datetime) -> Iterator[str]:
    """Events in [since, until), in the order they were written."""
    in_period = (EVENTS.c.occurred_at >= since, EVENTS.c.occurred_at < until)
    first, last = connection.execute(select(func.min(EVENTS.c.seq), func.max(EVENTS.c.seq)).where(*in_period)).one()
    if first is None:
        return
    for event, persons in events_with_persons(connection, first - 1, last):
        if since <= event["occurred_at"] < until:
            yield json.dumps({k: plain(v) for k, v in event.items()} | {"persons": persons}, ensure_ascii=False)


def record_export(session: Session, operator: str, since: datetime, until: datetime, count: int) -> None:
    write_system_event(session, operator, "export", "audit_event", "privacy-supervision",
                       {"since": since.isoformat(), "until": until.isoformat(), "count": count})
