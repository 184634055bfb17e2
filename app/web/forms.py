"""Reading a posted form: its CSRF token checked first, then its fields."""

from typing import Annotated

from fastapi import Depends, Form, Request

from app.web import session as web_session
from app.web.session import COOKIE


def checked(request: Request, csrf: Annotated[str | None, Form(max_length=100)] = None) -> None:
    """A dependency of every form a signed-in user posts: refused (403) without this session's token."""
    token = request.cookies.get(COOKIE)
    web_session.check(web_session.csrf_token(token) if token else None, csrf)


Checked = Depends(checked)
