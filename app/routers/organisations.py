"""The directory of organisations in the network: any signed-in caller may read it."""

from fastapi import APIRouter

from app.db import SessionDep
from app.models.organisation import OrganisationPublic
from app.pagination import Page, PageDep, encode_cursor
from app.services import organisations

router = APIRouter(prefix="/organisations", tags=["organisations"])


class OrganisationPage(Page[OrganisationPublic]):
    """One page of the organisations, in the order they were registered."""


@router.get("", response_model=OrganisationPage, summary="The organisations in the network")
def list_organisations(session: SessionDep, page: PageDep):
    rows, more = organisations.directory(session, page)
    cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more else None
    return OrganisationPage(items=[OrganisationPublic.model_validate(o, from_attributes=True) for o in rows],
                            next_cursor=cursor)
