"""Aggregate statistics: counts only, small counts suppressed; no names, free text or ids."""

from datetime import datetime

from sqlmodel import Field, SQLModel


class Breakdown(SQLModel):
    """Counts per value; null where the count is suppressed (small, or would reveal a small one)."""

    counts: dict[str, int | None]


class Statistics(SQLModel):
    since: datetime
    until: datetime
    suppression_threshold: int
    signals_total: int | None
    signals_by_category: Breakdown
    signals_by_district: Breakdown
    signals_by_urgency: Breakdown
    signals_by_outcome: Breakdown
    cases_opened: int | None
    cases_by_status: Breakdown
    median_hours_to_triage: float | None
    median_days_to_first_meeting: float | None = Field(
        description="From a case's opening to the first meeting that started with it on the agenda")
