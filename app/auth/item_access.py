"""Information items: visible to the case's coordinator, the contributor, and whom it is shared with."""

import uuid

from sqlalchemy import or_
from sqlmodel import select

from app.audit.writer import Auditor
from app.auth.case_access import ACTIVITY, CaseAccess
from app.auth.principal import forbidden
from app.errors import not_found
from app.models import InformationItem, ItemShare
from app.models.audit import Operation


def _visible_item_ids(auditor: Auditor, access: CaseAccess):
    principal = auditor.principal
    query = select(InformationItem.item_id).where(InformationItem.case_id == access.case.id)
    if access.may_manage(principal):
        return query
    shared = select(ItemShare.item_id).where(ItemShare.organisation_id == principal.organisation_id)
    return query.where(or_(InformationItem.item_id.in_(shared),
                           InformationItem.contributor_organisation_id == principal.organisation_id))


def list_items(auditor: Auditor, access: CaseAccess) -> tuple[list[InformationItem], dict, dict]:
    """Current versions, their earlier versions and share lists; one audit event for what was shown."""
    session = auditor.session
    visible = _visible_item_ids(auditor, access)
    versions = session.exec(select(InformationItem).where(InformationItem.item_id.in_(visible))
                            .order_by(InformationItem.created_at, InformationItem.version)).all()
    current = [v for v in versions if v.superseded_at is None]
    earlier: dict[uuid.UUID, list[InformationItem]] = {}
    for version in versions:
        if version.superseded_at is not None:
            earlier.setdefault(version.item_id, []).append(version)
    shares = share_lists(auditor, [v.item_id for v in current])
    auditor.allowed(Operation.list, "information_item", access.case.id, [access.person.pseudonym], ACTIVITY,
                    {"item_ids": [str(v.item_id) for v in current]}, emergency=access.emergency)
    return current, earlier, shares


def share_lists(auditor: Auditor, item_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    rows = auditor.session.exec(select(ItemShare).where(ItemShare.item_id.in_(item_ids))).all()
    shares: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row in rows:
        shares.setdefault(row.item_id, []).append(row.organisation_id)
    return shares


def correctable_item(auditor: Auditor, access: CaseAccess, item_id: uuid.UUID) -> InformationItem:
    """The current version of an item the caller's organisation contributed (only it corrects)."""
    session = auditor.session
    item = session.exec(select(InformationItem).where(
        InformationItem.item_id == item_id, InformationItem.case_id == access.case.id,
        InformationItem.superseded_at.is_(None), InformationItem.item_id.in_(_visible_item_ids(auditor, access)))).first()
    if item is None or item.contributor_organisation_id != auditor.principal.organisation_id:
        auditor.denied(Operation.update, "information_item", item_id, [access.person.pseudonym], ACTIVITY)
        if item is None:
            raise not_found()
        raise forbidden("Only the contributing organisation corrects an item.")
    return item


def earlier_versions(auditor: Auditor, item_id: uuid.UUID) -> list[InformationItem]:
    query = (select(InformationItem).where(InformationItem.item_id == item_id, InformationItem.superseded_at.is_not(None))
             .order_by(InformationItem.version))
    return list(auditor.session.exec(query).all())


def visible_item_ids(auditor: Auditor, access: CaseAccess) -> set[str] | None:
    """Ids of the items the caller may see in this case; None when it may see all (the coordinator)."""
    if access.may_manage(auditor.principal):
        return None
    return {str(i) for i in auditor.session.exec(_visible_item_ids(auditor, access)).all()}
