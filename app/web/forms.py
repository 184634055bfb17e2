"""Reading a posted form: its CSRF token checked first, then its fields."""

from typing import Annotated

from fastapi import Depends, Form, Request

from app.errors import ApiError
from app.web import session as web_session
from app.web.session import COOKIE


def checked(request: Request, csrf: Annotated[str | None, Form(max_length=100)] = None) -> None:
    """A dependency of every form a signed-in user posts: without a session, the login page; without
    this session's token, refused (403)."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise ApiError(401, "Log in first.")
    web_session.check(web_session.csrf_token(token), csrf)


Checked = Depends(checked)
