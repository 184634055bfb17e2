"""Export of a period's audit log as JSON Lines, for a SIEM or a Logboek Dataverwerkingen service; the
export is itself audited.

The whole registry's log, or one municipality's (for that municipality's own SIEM): then its events
only, read under its tenancy, and the export recorded as an event of that municipality. Two forms:
`native`, the events as stored with their persons; `logboek`, the standard's records (app/audit/logboek.py)."""

import json
import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine, func, select

from app.audit import logboek
from app.audit.chain import EVENTS, events_with_persons, plain
from app.audit.writer import write_system_event
from app.auth import tenancy
from app.db import Session

FORMATS = ("native", "logboek")


def _lines(event: dict, persons: list[str], form: str) -> list[dict]:
    if form == "logboek":
        return logboek.records(event, persons)
    return [{k: plain(v) for k, v in event.items()} | {"persons": persons}]


def export(engine: Engine, since: datetime, until: datetime, write: Callable[[str], object], operator: str,
           municipality: uuid.UUID | None = None, form: str = "native") -> int:
    """Writes the events in [since, until) (of `municipality` only, if given), in the order they were
    written, as JSON lines in `form`; then records the export as an event of its own. Returns how many
    lines it wrote."""
    count = 0
    with engine.connect() as connection, tenancy.maintenance("audit export", connection):
        if municipality is not None:
            tenancy.apply(connection, [municipality])  # on PostgreSQL the database holds the others back too
        in_period = (EVENTS.c.occurred_at >= since, EVENTS.c.occurred_at < until)
        first, last = connection.execute(select(func.min(EVENTS.c.seq), func.max(EVENTS.c.seq))
                                         .where(*in_period)).one()
        for event, persons in events_with_persons(connection, first - 1, last) if first is not None else ():
            if since <= event["occurred_at"] < until and municipality in (None, event["municipality_id"]):
                for line in _lines(event, persons, form):
                    write(json.dumps(line, ensure_ascii=False))
                    count += 1
    with Session(engine) as session, tenancy.maintenance("audit export", session):
        write_system_event(session, operator, "export", "audit_event", "privacy-supervision",
                           {"since": since.isoformat(), "until": until.isoformat(), "count": count, "format": form},
                           municipality_id=municipality)
        session.commit()
    return count
