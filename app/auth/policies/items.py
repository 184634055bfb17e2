"""Information items: the unit of need-to-know inside a case the caller was admitted to (policies/cases.py).

| relationship | who | sees |
|---|---|---|
| coordinator | the coordinator of the case's municipality | every item of the case |
| chair | a chair, inside the case's chair window | every item of the case |
| shared | anyone admitted to the case whose organisation the item is shared with | that item, all its versions |
| contributor | anyone admitted to the case whose organisation brought the item in | that item; only it corrects it |

An item is shared with the case's municipality and its contributor at least. An expert sees only the
items of a referral to them (policies/referrals.py).
"""

import uuid

from sqlalchemy import exists
from sqlmodel import Session, select

from app.audit.writer import Auditor
from app.auth.policies.cases import ACTIVITY, CaseAccess, chaired_case_ids
from app.auth.policy import Policy, Rule, Viewer
from app.auth.principal import forbidden
from app.errors import not_found
from app.models import Case, InformationItem, ItemShare, Person
from app.models.audit import Operation
from app.pagination import PageParams


def _shared(viewer: Viewer):
    # Correlated, one primary-key probe per item: an IN over every item shared with the organisation
    # read all of them (and, for row-level security, every item and case of the tenant) per request.
    return exists().where(ItemShare.item_id == InformationItem.item_id,
                          ItemShare.organisation_id == viewer.principal.organisation_id)


RULES = (
    Rule("coordinator", "item", lambda p: p.coordinated_municipality is not None,
         lambda v: Case.municipality_id == v.principal.coordinated_municipality),
    Rule("chair", "item", lambda p: p.municipal_chair, lambda v: Case.id.in_(chaired_case_ids(v))),
    Rule("contributor", "item", lambda p: True,
         lambda v: InformationItem.contributor_organisation_id == v.principal.organisation_id),
    Rule("shared", "item", lambda p: True, _shared),
)
POLICY = Policy("information_item", ACTIVITY, RULES,
                select(InformationItem, Case, Person).join(Case, Case.id == InformationItem.case_id)
                .join(Person, Person.id == Case.person_id),
                id=InformationItem.item_id, order=(InformationItem.created_at, InformationItem.id),
                pseudonyms=lambda row: [row.Person.pseudonym], municipality=lambda row: row.Case.municipality_id,
                key=lambda row: row.InformationItem.item_id)


def _versions(auditor: Auditor, access: CaseAccess, *conditions) -> list:
    found = POLICY.find(auditor.session, Viewer.of(auditor), InformationItem.case_id == access.case.id, *conditions)
    return sorted(found, key=lambda f: (f.row.InformationItem.created_at, f.row.InformationItem.version))


def list_items(auditor: Auditor, access: CaseAccess,
               page: PageParams) -> tuple[list[InformationItem], dict, dict, bool]:
    """One page of current versions, oldest first, with their earlier versions and share lists, and whether
    more follow; one audit event for what was shown."""
    viewer = Viewer.of(auditor)
    found, more = POLICY.find_page(auditor.session, viewer, page, InformationItem.case_id == access.case.id,
                                   InformationItem.superseded_at.is_(None), newest_first=False)
    current = [f.row.InformationItem for f in found]
    earlier: dict[uuid.UUID, list[InformationItem]] = {}
    for version in _versions(auditor, access, InformationItem.item_id.in_([v.item_id for v in current]),
                             InformationItem.superseded_at.is_not(None)):
        earlier.setdefault(version.row.InformationItem.item_id, []).append(version.row.InformationItem)
    shares = share_lists(auditor.session, [v.item_id for v in current])
    auditor.allowed(Operation.list, "information_item", access.case.id, [access.person.pseudonym], ACTIVITY,
                    {"item_ids": [str(v.item_id) for v in current]}, emergency=access.emergency,
                    municipality_id=access.case.municipality_id)
    return current, earlier, shares, more


def share_lists(session: Session, item_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    with POLICY.context():
        rows = session.exec(select(ItemShare).where(ItemShare.item_id.in_(item_ids))).all()
    shares: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row in rows:
        shares.setdefault(row.item_id, []).append(row.organisation_id)
    return shares


def correctable_item(auditor: Auditor, access: CaseAccess, item_id: uuid.UUID) -> InformationItem:
    """The current version of an item the caller's organisation contributed (only it corrects)."""
    found = _versions(auditor, access, InformationItem.item_id == item_id, InformationItem.superseded_at.is_(None))
    if not found:
        auditor.denied(Operation.update, "information_item", item_id, [access.person.pseudonym], ACTIVITY)
        raise not_found()
    contributed = [f for f in found if f.row.InformationItem.contributor_organisation_id
                   == auditor.principal.organisation_id]
    if not contributed:
        auditor.denied(Operation.update, "information_item", item_id, [access.person.pseudonym], ACTIVITY)
        raise forbidden("Only the contributing organisation corrects an item.")
    return contributed[0].row.InformationItem


def earlier_versions(session: Session, item_id: uuid.UUID) -> list[InformationItem]:
    """The superseded versions of an item the caller was just shown the current version of."""
    query = (select(InformationItem).where(InformationItem.item_id == item_id,
                                           InformationItem.superseded_at.is_not(None))
             .order_by(InformationItem.version))
    with POLICY.context():
        return list(session.exec(query).all())


def visible_item_ids(auditor: Auditor, access: CaseAccess) -> set[str]:
    return {str(f.row.InformationItem.item_id) for f in _versions(auditor, access)}


def shareable_item_ids(session: Session, case_id: uuid.UUID, item_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Of the requested items, those that are current items of the case (a referral shares them)."""
    if not item_ids:
        return []
    query = select(InformationItem.item_id).where(
        InformationItem.case_id == case_id, InformationItem.item_id.in_(item_ids),
        InformationItem.superseded_at.is_(None))
    with POLICY.context():
        return list(session.exec(query).all())
