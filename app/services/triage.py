"""Triage of signals by the coordinator: a new case, a link to a case, or no further action."""

import uuid
from typing import Literal

from pydantic import model_validator
from sqlmodel import Session, SQLModel

from app.audit.writer import Auditor
from app.auth.policies.cases import load_case
from app.auth.policies.signals import FOLLOW_UP, SignalAccess
from app.errors import ApiError
from app.models.audit import Operation
from app.models.base import utcnow
from app.models.signal import SignalStatus
from app.services import cases
from app.validation import Text

Reason = Text(2000, 10)
OPEN = {SignalStatus.received, SignalStatus.in_triage}


class TriageRequest(SQLModel):
    model_config = {"extra": "forbid"}

    outcome: Literal["new_case", "link_to_case", "no_further_action"]
    case_id: uuid.UUID | None = None
    reason: Reason | None = None

    @model_validator(mode="after")
    def _required_per_outcome(self) -> "TriageRequest":
        if self.outcome == "link_to_case" and self.case_id is None:
            raise ValueError("case_id is required to link to a case")
        if self.outcome == "no_further_action" and self.reason is None:
            raise ValueError("reason is required for no further action")
        return self


class ReopenRequest(SQLModel):
    model_config = {"extra": "forbid"}

    reason: Reason


def triage(session: Session, auditor: Auditor, access: SignalAccess, data: TriageRequest) -> None:
    """`access`: the signal, locked, of a coordinator (policies.signals.triageable_signal)."""
    signal = access.signal
    if signal.status not in OPEN:
        raise ApiError(409, f"The signal was already triaged ({signal.status}); re-open it first.", "already-triaged")
    case = None
    if data.outcome == "new_case":
        case = cases.open_case(session, auditor, access.person, None)
    elif data.outcome == "link_to_case":
        case = load_case(auditor, data.case_id, Operation.update).case
        if case.person_id != signal.person_id or case.municipality_id != signal.municipality_id:
            raise ApiError(409, "The case concerns another person than the signal.", "other-person")
    signal.status = SignalStatus.linked_to_case if case else SignalStatus.no_further_action
    signal.case_id = case.id if case else None
    signal.triage_reason, signal.triaged_at, signal.triaged_by = data.reason, utcnow(), auditor.principal.id
    signal.updated_at = utcnow()
    session.add(signal)
    if case is not None:
        cases.record(session, auditor, case.id, "signal_linked", {"signal_id": str(signal.id)})
    auditor.allowed(Operation.update, "signal", signal.id, [access.person.pseudonym], FOLLOW_UP,
                    {"triage": data.outcome, "case_id": str(case.id) if case else None},
                    municipality_id=signal.municipality_id)


def reopen(session: Session, auditor: Auditor, access: SignalAccess, data: ReopenRequest) -> None:
    signal = access.signal
    if signal.status in OPEN:
        raise ApiError(409, "The signal is not triaged; there is nothing to re-open.", "not-triaged")
    previous = {"status": signal.status, "case_id": str(signal.case_id) if signal.case_id else None}
    signal.status, signal.case_id, signal.triage_reason = SignalStatus.in_triage, None, data.reason
    signal.updated_at = utcnow()
    session.add(signal)
    # The reason stays on the signal: free text is never written to the audit log.
    auditor.allowed(Operation.update, "signal", signal.id, [access.person.pseudonym], FOLLOW_UP,
                    {"reopen": True, "previous": previous}, municipality_id=signal.municipality_id)
