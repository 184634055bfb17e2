"""The directory of organisations in the network, as the API lists it."""

from sqlmodel import Session, select

from app.models import Organisation
from app.pagination import PageParams, keyset, split


def directory(session: Session, page: PageParams) -> tuple[list[Organisation], bool]:
    """One page of the organisations, in the order they were registered, and whether more follow."""
    query = keyset(select(Organisation), page, Organisation.created_at, Organisation.id, newest_first=False)
    return split(session.exec(query).all(), page)
