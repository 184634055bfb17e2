"""Cases: who may know a case exists, and in which view.

| relationship | who | view | may |
|---|---|---|---|
| coordinator | the coordinator of the case's municipality | full | read, manage, contribute |
| chair | a chair of that municipality, while the case is on the agenda of a meeting they chair: from the agenda's building (only for meetings that start within AGENDA_HORIZON_DAYS) until CHAIR_ACCESS_DAYS_AFTER_CLOSE days after the meeting closed | full | read |
| member | a partner whose organisation takes part in the case | partner | read, contribute |
| emergency | a partner or coordinator who broke the glass, until it expires | partner, audited `emergency` | read |

The full view holds the person's BSN and address; the partner view does not. Anyone else: 404.
Break-the-glass itself is open to partners and coordinators, on cases of the municipalities they work in.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import Depends, Path
from sqlalchemy import ColumnElement, exists, or_
from sqlmodel import Session, select

from app.audit.writer import Auditor, AuditorDep
from app.auth.policy import Found, Policy, Rule, Viewer
from app.auth.principal import Principal, forbidden
from app.errors import not_found
from app.models import AgendaItem, Case, CaseHistory, CaseMember, EmergencyAccess, Meeting, Organisation, Person, Role
from app.models.audit import Operation
from app.pagination import PageParams, keyset, split

CaseViewKind = Literal["full", "partner"]
ACTIVITY = "case-management"  # the processing activities (app/privacy/processing_activities.json)
CASUSOVERLEG, PARTICIPATION, EMERGENCY = "casusoverleg", "case-participation", "emergency-access"
MANAGE = {"coordinator"}
CONTRIBUTE = {"coordinator", "member"}


def chair_window(viewer: Viewer) -> tuple[ColumnElement[bool], ...]:
    """A meeting the viewer chairs whose agenda opens its cases to them: it starts within the horizon,
    and closed (if it did) no longer ago than the days after closing."""
    settings, now = viewer.settings, viewer.now
    return (Meeting.chair_id == viewer.principal.id, Meeting.municipality_id == viewer.principal.municipality_id,
            Meeting.starts_at <= now + timedelta(days=settings.agenda_horizon_days),
            or_(Meeting.closed_at.is_(None),
                Meeting.closed_at > now - timedelta(days=settings.chair_access_days_after_close)))


def chaired_agenda(viewer: Viewer, case_id) -> ColumnElement[bool]:
    """The case is on the agenda of a meeting the viewer chairs, inside the chair's access window."""
    return exists().where(AgendaItem.case_id == case_id, AgendaItem.removed_at.is_(None),
                          Meeting.id == AgendaItem.meeting_id, *chair_window(viewer))


def _member(viewer: Viewer) -> ColumnElement[bool]:
    return exists().where(CaseMember.case_id == Case.id, CaseMember.organisation_id == viewer.principal.organisation_id)


def _emergency(viewer: Viewer) -> ColumnElement[bool]:
    return exists().where(EmergencyAccess.case_id == Case.id, EmergencyAccess.actor_id == viewer.principal.id,
                          EmergencyAccess.expires_at > viewer.now)


def may_break_the_glass(principal: Principal) -> bool:
    return principal.has_role(Role.partner, Role.coordinator)


RULES = (
    Rule("coordinator", "full", lambda p: p.coordinated_municipality is not None,
         lambda v: Case.municipality_id == v.principal.coordinated_municipality),
    Rule("chair", "full", lambda p: p.municipal_chair, lambda v: chaired_agenda(v, Case.id), activity=CASUSOVERLEG),
    Rule("member", "partner", lambda p: p.has_role(Role.partner), _member, activity=PARTICIPATION),
    Rule("emergency", "partner", may_break_the_glass, _emergency, emergency=True, activity=EMERGENCY),
)
POLICY = Policy("case", ACTIVITY, RULES, select(Case, Person).join(Person, Person.id == Case.person_id),
                id=Case.id, order=(Case.created_at, Case.id), pseudonyms=lambda row: [row.Person.pseudonym],
                municipality=lambda row: row.Case.municipality_id)


@dataclass(frozen=True)
class CaseAccess:
    case: Case
    person: Person
    rule: str  # the relationship the caller has with the case (see RULES)
    view: CaseViewKind
    emergency: bool

    @classmethod
    def of(cls, found: Found) -> "CaseAccess":
        return cls(found.row.Case, found.row.Person, found.rule.name, found.view, found.rule.emergency)

    @property
    def managed(self) -> bool:
        return self.rule in MANAGE


def load_case(auditor: Auditor, case_id: uuid.UUID, operation: Operation = Operation.read,
              lock: bool = False) -> CaseAccess:
    return CaseAccess.of(POLICY.load(auditor, case_id, operation, lock=lock))


def readable(session: Session, viewer: Viewer, case_id: uuid.UUID) -> bool:
    """Whether the viewer may know of the case (no audit: for deciding between 403 and 404)."""
    return bool(POLICY.find(session, viewer, Case.id == case_id))


def readable_case(id: Annotated[uuid.UUID, Path(description="Case id")], auditor: AuditorDep) -> CaseAccess:
    return load_case(auditor, id)


def managed_case(id: Annotated[uuid.UUID, Path(description="Case id")], auditor: AuditorDep) -> CaseAccess:
    """A case the caller coordinates, row-locked for the change; others who can see it get 403, the rest 404."""
    return CaseAccess.of(POLICY.load_to_change(auditor, id, MANAGE,
                                               "Only the coordinator of the case's municipality changes a case."))


def contributable_case(id: Annotated[uuid.UUID, Path(description="Case id")], auditor: AuditorDep) -> CaseAccess:
    """A case the caller's organisation takes part in (or coordinates): where it may add information."""
    found = POLICY.load(auditor, id)
    POLICY.require(auditor, found, CONTRIBUTE, Operation.create,
                   "Only organisations taking part in the case add information.")
    return CaseAccess.of(found)


ReadableCase = Annotated[CaseAccess, Depends(readable_case)]
ManagedCase = Annotated[CaseAccess, Depends(managed_case)]
ContributableCase = Annotated[CaseAccess, Depends(contributable_case)]


def list_cases(auditor: Auditor, page: PageParams, status: str | None) -> tuple[list[CaseAccess], bool]:
    conditions = [] if status is None else [Case.status == status]
    found, more = POLICY.page(auditor, page, *conditions, refusal="Your role gives no access to cases.")
    return [CaseAccess.of(f) for f in found], more


def emergency_target(auditor: Auditor, case_id: uuid.UUID) -> tuple[Case, Person]:
    """The case a partner or coordinator breaks the glass on: one of the municipalities they work in.
    Who may read it already gets 403 (a chair) or 409 (see services.emergency); the rest 404."""
    principal, session = auditor.principal, auditor.session
    with POLICY.context():
        row = session.execute(POLICY.query.where(Case.id == case_id,
                                                 Case.municipality_id.in_(principal.municipalities))).first()
    if row is None or not may_break_the_glass(principal):
        POLICY.deny(auditor, Operation.read, case_id, {"emergency": True})
        if row is not None and readable(session, Viewer.of(auditor), case_id):
            raise forbidden("Only a coordinator or a partner breaks the glass.")
        raise not_found()
    auditor.acting_for = row.Case.municipality_id
    return row.Case, row.Person


ITEM_CHANGES = {"item_added", "item_corrected"}


def case_history(session: Session, access: CaseAccess, visible_item_ids: set[str] | None,
                 page: PageParams) -> tuple[list[CaseHistory], bool]:
    """One page of the case's changes, oldest first; entries about information items only where the item
    is visible to the caller (`visible_item_ids` None: all, for the coordinator)."""
    query = select(CaseHistory).where(CaseHistory.case_id == access.case.id)
    if visible_item_ids is not None:
        query = query.where(or_(CaseHistory.change.not_in(ITEM_CHANGES),
                                CaseHistory.details["item_id"].as_string().in_(sorted(visible_item_ids))))
    with POLICY.context():
        entries = session.execute(keyset(query, page, CaseHistory.at, CaseHistory.id, newest_first=False)).scalars()
        return split(entries.all(), page)


def _members(case_id: uuid.UUID):
    return (select(CaseMember, Organisation).join(Organisation, Organisation.id == CaseMember.organisation_id)
            .where(CaseMember.case_id == case_id))


def case_members(session: Session, case_id: uuid.UUID) -> list[tuple[CaseMember, Organisation]]:
    """The organisations taking part in a case the caller was admitted to."""
    with POLICY.context():
        return [tuple(row) for row in session.execute(_members(case_id).order_by(CaseMember.added_at)).all()]


def member_page(session: Session, case_id: uuid.UUID,
                page: PageParams) -> tuple[list[tuple[CaseMember, Organisation]], bool]:
    """One page of the organisations taking part in a case the caller was admitted to, in the order they joined."""
    query = keyset(_members(case_id), page, CaseMember.added_at, CaseMember.organisation_id, newest_first=False)
    with POLICY.context():
        rows, more = split(session.execute(query).all(), page)
    return [tuple(row) for row in rows], more


def chaired_case_ids(viewer: Viewer):
    """The cases the viewer reads as chair, for the policies of what hangs on a case."""
    return select(Case.id).where(chaired_agenda(viewer, Case.id))
