"""Actions (afspraken): who may know an action, who changes it, who agrees new ones.

| relationship | who | may |
|---|---|---|
| owner | a partner or coordinator of the owning organisation, or its system with scope actions:read | read; report (done, cancelled) unless a system |
| coordinator, chair, member, emergency | whoever reads the action's case, through that relationship (policies/cases.py) | read; the coordinator also changes it |

An action shows its case's number, not its person, but it concerns that person: every read is
audited with the person's pseudonym. New actions are agreed by the coordinator of the case's
municipality, or by the chair of a meeting, not yet closed, with the case on its agenda; never on a
closed case. Anyone else: 404.
"""

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path
from sqlmodel import select

from app.audit.writer import Auditor, AuditorDep
from app.auth.policies import cases
from app.auth.policies.agendas import chairs_open_meeting_on
from app.auth.policies.cases import ACTIVITY, CaseAccess, load_case
from app.auth.policy import Found, Policy, Rule, Viewer
from app.auth.principal import Principal, forbidden
from app.errors import ApiError
from app.models import Action, Case, Person, Role, Scope
from app.models.audit import Operation
from app.models.case import CaseStatus
from app.pagination import PageParams, keyset, split

CHANGE = {"owner", "coordinator"}


def may_own(principal: Principal) -> bool:
    return principal.has_role(Role.partner, Role.coordinator) or principal.has_scope(Scope.actions_read)


def _through_case(rule: Rule) -> Rule:
    """A case's rule, as a relationship with the actions of the cases it lets the caller read (its SQL
    stands on the case each action is joined with)."""
    return Rule(rule.name, "action", rule.applies, rule.where, emergency=rule.emergency)


RULES = (
    Rule("owner", "action", may_own, lambda v: Action.owner_organisation_id == v.principal.organisation_id),
    *(_through_case(rule) for rule in cases.RULES),
)
POLICY = Policy("action", ACTIVITY, RULES,
                select(Action, Case, Person).join(Case, Case.id == Action.case_id)
                .join(Person, Person.id == Case.person_id),
                id=Action.id, order=(Action.created_at, Action.id), pseudonyms=lambda row: [row.Person.pseudonym],
                municipality=lambda row: row.Case.municipality_id)


@dataclass(frozen=True)
class ActionAccess:
    action: Action
    case: Case
    person: Person
    rule: str

    @classmethod
    def of(cls, found: Found) -> "ActionAccess":
        return cls(found.row.Action, found.row.Case, found.row.Person, found.rule.name)


def readable_action(id: Annotated[uuid.UUID, Path(description="Action id")], auditor: AuditorDep) -> ActionAccess:
    """Where a receiver of the `action.assigned` webhook fetches the action."""
    return ActionAccess.of(POLICY.load(auditor, id))


ReadableAction = Annotated[ActionAccess, Depends(readable_action)]


def changeable_action(id: Annotated[uuid.UUID, Path(description="Action id")], auditor: AuditorDep) -> ActionAccess:
    """An action the caller's organisation owns, or one in a case the caller coordinates; row-locked.
    Who can read it otherwise gets 403, the rest 404."""
    found = POLICY.load_to_change(auditor, id, CHANGE,
                                  "Only the owning organisation and the coordinator change an action.")
    if auditor.principal.kind == "client":
        POLICY.require(auditor, found, (), Operation.update, "A system with scope actions:read reads actions only.")
    return ActionAccess.of(found)


ChangeableAction = Annotated[ActionAccess, Depends(changeable_action)]


def assigned_actions(auditor: Auditor, page: PageParams, status: str | None) -> tuple[list[ActionAccess], bool]:
    """The actions the caller's organisation owns, newest first."""
    principal = auditor.principal
    if not may_own(principal):
        auditor.denied(Operation.list, "action", None, [], ACTIVITY, {"assignee": "me"})
        raise forbidden("Actions are owned by partner organisations and the municipality.")
    conditions = [Action.owner_organisation_id == principal.organisation_id]
    conditions += [] if status is None else [Action.status == status]
    found, more = POLICY.page(auditor, page, *conditions, detail={"assignee": "me"})
    return [ActionAccess.of(f) for f in found], more


def action_case(id: Annotated[uuid.UUID, Path(description="Case id")], auditor: AuditorDep) -> CaseAccess:
    """A case where the caller agrees actions: as its coordinator, or as the chair of a meeting (not
    yet closed) that has it on the agenda. Not on a closed case (409). Others who can read the case
    get 403, the rest 404."""
    access = load_case(auditor, id)
    chairing = chairs_open_meeting_on(auditor.session, Viewer.of(auditor), id)
    if not (access.managed or chairing):
        auditor.denied(Operation.create, "action", id, [access.person.pseudonym], ACTIVITY)
        raise forbidden("Actions are agreed by the coordinator, or by the chair of a meeting the case is on.")
    if access.case.status == CaseStatus.closed:
        raise ApiError(409, "A closed case gets no new actions; re-open it first.", "case-closed")
    return access


ActionCase = Annotated[CaseAccess, Depends(action_case)]


def case_actions(auditor: Auditor, access: CaseAccess, page: PageParams) -> tuple[list[Action], bool]:
    """One page of the actions of a case the caller was admitted to, oldest first, and whether more follow."""
    query = keyset(select(Action).where(Action.case_id == access.case.id), page, Action.created_at, Action.id,
                   newest_first=False)
    with POLICY.context():
        actions, more = split(auditor.session.exec(query).all(), page)
    auditor.allowed(Operation.list, "action", access.case.id, [access.person.pseudonym], ACTIVITY,
                    {"action_ids": [str(a.id) for a in actions]}, emergency=access.emergency,
                    municipality_id=access.case.municipality_id)
    return actions, more


def replayed_action(auditor: Auditor, access: CaseAccess, action_id: uuid.UUID) -> Action:
    """The action a retried creation (same Idempotency-Key, case and body) agreed the first time."""
    with POLICY.context():
        action = auditor.session.exec(select(Action).where(Action.id == action_id,
                                                           Action.case_id == access.case.id)).one()
    auditor.allowed(Operation.create, "action", action.id, [access.person.pseudonym], ACTIVITY,
                    {"case_id": str(access.case.id), "replay": True}, municipality_id=access.case.municipality_id)
    return action

