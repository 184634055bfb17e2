"""Statistics for evaluation and the council: aggregates of one municipality, audited, no persons."""

import statistics as stats
from collections import Counter
from datetime import datetime

from sqlmodel import Session, func, select

from app.audit.writer import Auditor
from app.auth import guard
from app.auth.principal import forbidden
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


def _compute(session: Session, municipality, since: datetime, until: datetime, threshold: int) -> Statistics:
    signals = session.exec(select(Signal.categories, Signal.district, Signal.urgency, Signal.status,
                                  Signal.created_at, Signal.triaged_at).where(
        Signal.municipality_id == municipality, Signal.created_at >= since, Signal.created_at < until)).all()
    cases = session.exec(select(Case.status).where(Case.municipality_id == municipality, Case.created_at >= since,
                                                   Case.created_at < until)).all()
    hours = [(t - c).total_seconds() / 3600 for *_, c, t in signals if t is not None]

    def breakdown(values) -> Breakdown:
        return Breakdown(counts=suppress(dict(Counter(values)), threshold))

    result = Statistics(
        since=since, until=until, suppression_threshold=threshold,
        signals_total=suppress_total(len(signals), threshold),
        signals_by_category=breakdown(c for row in signals for c in row[0]),
        signals_by_district=breakdown(row[1] or "unknown" for row in signals),
        signals_by_urgency=breakdown(row[2] for row in signals),
        signals_by_outcome=breakdown(row[3] for row in signals),
        cases_opened=suppress_total(len(cases), threshold), cases_by_status=breakdown(cases),
        median_hours_to_triage=_median(hours, threshold),
        median_days_to_first_meeting=_median(_days_to_first_meeting(session, municipality, since, until), threshold))
    return result
