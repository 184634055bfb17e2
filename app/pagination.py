"""Cursor (keyset) pagination with a bounded page size."""

import base64
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import and_, or_

from app.errors import ApiError

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 20


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class PageParams(BaseModel):
    size: int
    after: tuple[datetime, uuid.UUID] | None


def encode_cursor(created_at: datetime, id_: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(id_)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, id_ = json.loads(raw)
        at = datetime.fromisoformat(created)
        if at.tzinfo is None:
            raise ValueError("cursor without timezone")
        return at, uuid.UUID(id_)
    except (ValueError, TypeError) as exc:
        raise ApiError(400, "The cursor is not valid; use next_cursor from a previous page.",
                       errors=[{"name": "cursor", "location": "query", "code": "invalid_cursor",
                                "reason": "not a cursor issued by this API"}]) from exc


def page_params(request: Request,
                page_size: Annotated[int, Query(alias="pageSize", ge=1, le=1000,
                                                description="Items per page (bounded by the server)")] = DEFAULT_PAGE_SIZE,
                cursor: Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")] = None,
                ) -> PageParams:
    limit = request.app.state.settings.max_page_size
    if page_size > limit:
        raise ApiError(400, f"pageSize may be at most {limit}.",
                       errors=[{"name": "pageSize", "location": "query", "code": "less_than_equal",
                                "reason": f"must be at most {limit}"}])
    return PageParams(size=page_size, after=decode_cursor(cursor) if cursor else None)


PageDep = Annotated[PageParams, Depends(page_params)]


def keyset(query, page: PageParams, at_column, id_column, newest_first: bool = True):
    """Newest first (or oldest first), starting after the cursor; one row more than the page tells whether
    more follow (see `split`)."""
    if page.after is not None:
        at, last_id = page.after
        if newest_first:
            query = query.where(or_(at_column < at, and_(at_column == at, id_column < last_id)))
        else:
            query = query.where(or_(at_column > at, and_(at_column == at, id_column > last_id)))
    if newest_first:
        return query.order_by(at_column.desc(), id_column.desc()).limit(page.size + 1)
    return query.order_by(at_column.asc(), id_column.asc()).limit(page.size + 1)


def split(rows: Sequence[T], page: PageParams) -> tuple[list[T], bool]:
    """The rows of a `keyset` query: the page's own, and whether more follow."""
    return list(rows[: page.size]), len(rows) > page.size
