"""Information items of a case: added by taking-part organisations, seen only where shared."""

import uuid

from fastapi import APIRouter

from app.audit.writer import AuditorDep
from app.auth.policies.cases import ContributableCase, ReadableCase, case_members
from app.auth.policies.items import (
    correctable_item,
    earlier_versions,
    list_items,
    share_lists,
)
from app.db import SessionDep
from app.models import InformationItem
from app.models.item import ItemCorrection, ItemCreate, ItemVersion, ItemView
from app.pagination import Page, PageDep, encode_cursor
from app.services import items

router = APIRouter(prefix="/cases/{id}/items", tags=["information items"])


class ItemPage(Page[ItemView]):
    """One page of a case's information items (their current versions), oldest first."""


def _view(item: InformationItem, shared_with: list[uuid.UUID], earlier: list[InformationItem]) -> ItemView:
    return ItemView(id=item.item_id, case_id=item.case_id, kind=item.kind, version=item.version, text=item.text,
                    source=item.source, date=item.date, contributor_organisation_id=item.contributor_organisation_id,
                    contributor_name=item.contributor_name, shared_with=sorted(shared_with),
                    previous_versions=[ItemVersion.model_validate(v, from_attributes=True) for v in earlier],
                    created_at=item.created_at)


@router.get("", response_model=ItemPage, summary="Information items shared with your organisation")
def list_case_items(access: ReadableCase, auditor: AuditorDep, page: PageDep):
    current, earlier, shares, more = list_items(auditor, access, page)
    cursor = encode_cursor(current[-1].created_at, current[-1].id) if more else None
    return ItemPage(items=[_view(i, shares.get(i.item_id, []), earlier.get(i.item_id, [])) for i in current],
                    next_cursor=cursor)


@router.post("", status_code=201, response_model=ItemView, summary="Bring information into the case")
def add_case_item(access: ContributableCase, data: ItemCreate, session: SessionDep, auditor: AuditorDep):
    members = [m.organisation_id for m, _ in case_members(session, access.case.id)]
    item, shared_with = items.add_item(session, auditor, access, data, members)
    return _view(item, shared_with, [])


@router.post("/{item_id}/corrections", status_code=201, response_model=ItemView,
             summary="Correct an item: a new version; the earlier one stays visible to the same parties")
def correct_case_item(access: ContributableCase, item_id: uuid.UUID, data: ItemCorrection, session: SessionDep,
                      auditor: AuditorDep):
    current = correctable_item(auditor, access, item_id)
    item = items.correct_item(session, auditor, access, current, data)
    session.flush()
    shared_with = share_lists(session, [item.item_id]).get(item.item_id, [])
    return _view(item, shared_with, earlier_versions(session, item.item_id))
