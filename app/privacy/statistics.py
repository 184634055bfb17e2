"""Statistics for evaluation and the council: aggregates of one municipality, audited, no persons."""

import json
import statistics as stats
from collections import Counter
from datetime import datetime

from sqlalchemy import Text, cast, extract
from sqlmodel import Session, func, select

from app.audit.writer import Auditor
from app.auth import guard
from app.auth.principal import forbidden
from app.db import dialect_name
from app.models import AgendaItem, Case, Meeting, Signal
from app.models.audit import Operation
from app.models.statistics import Breakdown, Statistics
from app.privacy.suppression import suppress, suppress_total

ACTIVITY = "statistics"


def _municipality(auditor: Auditor):
    p = auditor.principal
    if p.coordinated_municipality is None and not p.municipal_privacy_officer:
        auditor.denied(Operation.read, "statistics", None, [], ACTIVITY)
        raise forbidden("Statistics are for the municipality's coordinator and privacy officer.")
    return p.municipality_id


def _median(values: list[float], threshold: int) -> float | None:
    return round(stats.median(values), 1) if len(values) >= threshold else None


def _days_to_first_meeting(session: Session, municipality, since: datetime, until: datetime) -> list[float]:
    """Per case opened in the period: days until the first meeting that started with it on the agenda."""
    rows = session.exec(select(Case.created_at, func.min(Meeting.started_at))
                        .join(AgendaItem, AgendaItem.case_id == Case.id).join(Meeting, Meeting.id == AgendaItem.meeting_id)
                        .where(Case.municipality_id == municipality, Case.created_at >= since, Case.created_at < until,
                               AgendaItem.removed_at.is_(None), Meeting.started_at.is_not(None))
                        .group_by(Case.id, Case.created_at)).all()
    return [max((started - opened).total_seconds(), 0) / 86400 for opened, started in rows]


def compute(auditor: Auditor, since: datetime, until: datetime, threshold: int) -> Statistics:
    municipality = _municipality(auditor)
    with guard.access("statistics"):
        result = _compute(auditor.session, municipality, since, until, threshold)
    auditor.allowed(Operation.read, "statistics", None, [], ACTIVITY,
                    {"since": since.isoformat(), "until": until.isoformat()}, municipality_id=municipality)
    return result


def _combinations() -> tuple:
    """What a signal is counted by: its categories, district, urgency and outcome."""
    return cast(Signal.categories, Text), Signal.district, Signal.urgency, Signal.status


def _signal_counts(session: Session, period) -> list[tuple]:
    """Signals counted by the database per combination of categories, district, urgency and outcome: a
    year of a large municipality is some hundreds of combinations, not a hundred thousand rows."""
    groups = _combinations()
    return session.exec(select(*groups, func.count()).where(*period).group_by(*groups)).all()


def _median_hours_to_triage(session: Session, period, threshold: int) -> float | None:
    """On PostgreSQL percentile_cont, over the period's triaged signals (a year of a large municipality is
    some 170,000). Not in one GROUPING SETS pass with the counts: that sorts every signal by its text
    columns, where the counts alone hash a few hundred groups (285 against 148 ms for the two at full size)."""
    triaged = (*period, Signal.triaged_at.is_not(None))
    if dialect_name(session) == "postgresql":
        hours = extract("epoch", Signal.triaged_at - Signal.created_at) / 3600
        count, median = session.exec(select(func.count(), func.percentile_cont(0.5).within_group(hours))
                                     .where(*triaged)).one()
        return round(median, 1) if count >= threshold else None
    pairs = session.exec(select(Signal.created_at, Signal.triaged_at).where(*triaged)).all()
    return _median([(t - c).total_seconds() / 3600 for c, t in pairs], threshold)


def _compute(session: Session, municipality, since: datetime, until: datetime, threshold: int) -> Statistics:
    period = (Signal.municipality_id == municipality, Signal.created_at >= since, Signal.created_at < until)
    groups = _signal_counts(session, period)
    cases = session.exec(select(Case.status, func.count()).where(
        Case.municipality_id == municipality, Case.created_at >= since, Case.created_at < until)
        .group_by(Case.status)).all()

    def breakdown(weighted) -> Breakdown:
        counts = Counter()
        for value, count in weighted:
            counts[value] += count
        return Breakdown(counts=suppress(dict(counts), threshold))

    return Statistics(
        since=since, until=until, suppression_threshold=threshold,
        signals_total=suppress_total(sum(g[-1] for g in groups), threshold),
        signals_by_category=breakdown((c, g[-1]) for g in groups for c in json.loads(g[0])),
        signals_by_district=breakdown((g[1] or "unknown", g[-1]) for g in groups),
        signals_by_urgency=breakdown((g[2], g[-1]) for g in groups),
        signals_by_outcome=breakdown((g[3], g[-1]) for g in groups),
        cases_opened=suppress_total(sum(n for _, n in cases), threshold), cases_by_status=breakdown(cases),
        median_hours_to_triage=_median_hours_to_triage(session, period, threshold),
        median_days_to_first_meeting=_median(_days_to_first_meeting(session, municipality, since, until), threshold))
