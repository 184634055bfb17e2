"""Information items: contributions to a case, shared on purpose, corrected by new versions."""

import uuid

from sqlmodel import Session

from app.audit.writer import Auditor
from app.auth.policies.cases import ACTIVITY, CaseAccess
from app.errors import ApiError
from app.models import InformationItem, ItemShare
from app.models.audit import Operation
from app.models.base import utcnow
from app.models.item import ItemCorrection, ItemCreate
from app.services.cases import record


def _share_targets(access: CaseAccess, auditor: Auditor, requested: list[uuid.UUID] | None,
                   members: list[uuid.UUID]) -> set[uuid.UUID]:
    own = {access.case.municipality_id, auditor.principal.organisation_id}
    if requested is None:
        return own
    outside = [str(o) for o in requested if o not in members]
    if outside:
        raise ApiError(400, "Items are shared only with organisations that take part in the case.", errors=[
            {"name": "shared_with", "location": "body", "code": "not_a_member", "reason": f"not a member: {o}"}
            for o in outside])
    return set(requested) | own


def add_item(session: Session, auditor: Auditor, access: CaseAccess, data: ItemCreate,
             members: list[uuid.UUID]) -> tuple[InformationItem, list[uuid.UUID]]:
    p = auditor.principal
    targets = _share_targets(access, auditor, data.shared_with, members)
    item = InformationItem(item_id=uuid.uuid4(), case_id=access.case.id, kind=data.kind, text=data.text,
                           source=data.source, date=data.date, contributor_organisation_id=p.organisation_id,
                           contributor_id=p.id, contributor_name=p.name)
    session.add(item)
    session.add_all(ItemShare(item_id=item.item_id, organisation_id=o) for o in targets)
    record(session, auditor, access.case.id, "item_added", {"item_id": str(item.item_id), "kind": data.kind})
    auditor.allowed(Operation.create, "information_item", item.item_id, [access.person.pseudonym], ACTIVITY,
                    {"case_id": str(access.case.id), "shared_with": sorted(str(t) for t in targets)})
    return item, sorted(targets)


def correct_item(session: Session, auditor: Auditor, access: CaseAccess, current: InformationItem,
                 data: ItemCorrection) -> InformationItem:
    """The earlier version stays, visible to the same organisations; the new one supersedes it."""
    p = auditor.principal
    current.superseded_at = utcnow()
    session.add(current)
    item = InformationItem(item_id=current.item_id, version=current.version + 1, case_id=current.case_id,
                           kind=current.kind, text=data.text, source=data.source or current.source,
                           date=data.date or current.date, contributor_organisation_id=p.organisation_id,
                           contributor_id=p.id, contributor_name=p.name, correction_reason=data.reason)
    session.add(item)
    record(session, auditor, access.case.id, "item_corrected", {"item_id": str(item.item_id), "version": item.version})
    auditor.allowed(Operation.update, "information_item", item.item_id, [access.person.pseudonym], ACTIVITY,
                    {"case_id": str(access.case.id), "version": item.version})
    return item
