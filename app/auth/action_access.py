"""The choke point for actions: who may agree them, whose actions a caller sees, who changes them."""

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path
from sqlmodel import select

from app.audit.writer import Auditor, AuditorDep
from app.auth.case_access import (
    ACTIVITY,
    CaseAccess,
    can_read_case,
    case_access_for,
    load_case,
)
from app.auth.meeting_access import chairs_open_meeting_on
from app.auth.principal import Principal, forbidden
from app.errors import not_found
from app.models import Action, Case, Person, Role
from app.models.audit import Operation
from app.pagination import PageParams, keyset


@dataclass(frozen=True)
class ActionAccess:
    action: Action
    case: Case
    person: Person


def action_case(id: Annotated[uuid.UUID, Path(description="Case id")], auditor: AuditorDep) -> CaseAccess:
    """A case where the caller agrees actions: as its coordinator, or as the chair of a meeting (not
    yet closed) that has it on the agenda. Others who can read the case get 403, the rest 404."""
    access = load_case(auditor, id)
    if not (access.may_manage(auditor.principal) or chairs_open_meeting_on(auditor.session, auditor.principal, id)):
        auditor.denied(Operation.create, "action", id, [access.person.pseudonym], ACTIVITY)
        raise forbidden("Actions are agreed by the coordinator, or by the chair of a meeting the case is on.")
    return access


ActionCase = Annotated[CaseAccess, Depends(action_case)]


def replayed_action(auditor: Auditor, access: CaseAccess, action_id: uuid.UUID) -> Action:
    """The action a retried creation (same Idempotency-Key, case and body) agreed the first time."""
    action = auditor.session.exec(select(Action).where(Action.id == action_id, Action.case_id == access.case.id)).one()
    auditor.allowed(Operation.create, "action", action.id, [access.person.pseudonym], ACTIVITY,
                    {"case_id": str(access.case.id), "replay": True})
    return action


def case_actions(auditor: Auditor, access: CaseAccess) -> list[Action]:
    actions = auditor.session.exec(select(Action).where(Action.case_id == access.case.id)
                                   .order_by(Action.created_at, Action.id)).all()
    auditor.allowed(Operation.list, "action", access.case.id, [access.person.pseudonym], ACTIVITY,
                    {"action_ids": [str(a.id) for a in actions]}, emergency=access.emergency)
    return list(actions)


def _may_own(principal: Principal) -> bool:
    return principal.has_role(Role.partner, Role.coordinator)


def assigned_actions(auditor: Auditor, page: PageParams, status: str | None) -> tuple[list[ActionAccess], bool]:
    """The actions the caller's organisation owns, newest first."""
    principal = auditor.principal
    if not _may_own(principal):
        auditor.denied(Operation.list, "action", None, [], ACTIVITY)
        raise forbidden("Actions are owned by partner organisations and the municipality.")
    query = (select(Action, Case, Person).join(Case, Case.id == Action.case_id).join(Person, Person.id == Case.person_id)
             .where(Action.owner_organisation_id == principal.organisation_id))
    if status is not None:
        query = query.where(Action.status == status)
    rows = auditor.session.exec(keyset(query, page, Action.created_at, Action.id)).all()
    shown = [ActionAccess(*row) for row in rows[: page.size]]
    auditor.allowed(Operation.list, "action", None, [a.person.pseudonym for a in shown], ACTIVITY,
                    {"assignee": "me", "action_ids": [str(a.action.id) for a in shown]})
    return shown, len(rows) > page.size


def _action_row(auditor: Auditor, id: uuid.UUID) -> ActionAccess | None:
    row = auditor.session.exec(select(Action, Case, Person).join(Case, Case.id == Action.case_id)
                               .join(Person, Person.id == Case.person_id).where(Action.id == id)).first()
    return None if row is None else ActionAccess(*row)


def _owns(principal: Principal, action: Action) -> bool:
    return action.owner_organisation_id == principal.organisation_id and _may_own(principal)


def readable_action(id: Annotated[uuid.UUID, Path(description="Action id")], auditor: AuditorDep) -> ActionAccess:
    """An action the caller's organisation owns, or one in a case the caller can read; others 404.
    This is where a receiver of the `action.assigned` webhook fetches the action."""
    principal = auditor.principal
    access = _action_row(auditor, id)
    owner = access is not None and _owns(principal, access.action)
    case_view = None if access is None or owner else case_access_for(auditor.session, principal, access.case.id)
    if not (owner or case_view):
        auditor.denied(Operation.read, "action", id, [access.person.pseudonym] if access else [], ACTIVITY)
        raise not_found()
    auditor.allowed(Operation.read, "action", id, [access.person.pseudonym], ACTIVITY,
                    {"case_id": str(access.case.id)}, emergency=bool(case_view and case_view.emergency))
    return access


ReadableAction = Annotated[ActionAccess, Depends(readable_action)]


def changeable_action(id: Annotated[uuid.UUID, Path(description="Action id")], auditor: AuditorDep) -> ActionAccess:
    """An action the caller's organisation owns, or one in a case the caller coordinates. Who can
    read the case otherwise gets 403; everyone else 404."""
    principal, session = auditor.principal, auditor.session
    access = _action_row(auditor, id)
    if access is None:
        auditor.denied(Operation.update, "action", id, [], ACTIVITY)
        raise not_found()
    if _owns(principal, access.action) or access.case.municipality_id == principal.coordinated_municipality:
        return access
    auditor.denied(Operation.update, "action", id, [access.person.pseudonym], ACTIVITY)
    if can_read_case(session, principal, access.case.id):
        raise forbidden("Only the owning organisation and the coordinator change an action.")
    raise not_found()


ChangeableAction = Annotated[ActionAccess, Depends(changeable_action)]
