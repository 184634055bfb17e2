"""Signing in and out: the same accounts, password check and throttle as the token endpoint."""

from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Form, Request

from app.db import SessionDep
from app.errors import ApiError
from app.ratelimit import client_address, count_address
from app.services import auth as auth_service
from app.web import session as web_session
from app.web.pages import WebRoute, redirect, render
from app.web.session import COOKIE, LOGIN_COOKIE, PREFIX

router = APIRouter(route_class=WebRoute)
LOGIN_MINUTES = 30
HOME = f"{PREFIX}/vergaderingen"


def _next(target: str | None) -> str:
    """Only a page of our own: a link elsewhere would turn the login page into an open redirect."""
    path = unquote(target or "")
    return path if path.startswith(PREFIX + "/") and "//" not in path and "\\" not in path else HOME


def _login_page(request: Request, target: str | None, message: str | None = None, status: int = 200):
    nonce = web_session.new_login_nonce()
    response = render(request, "login.html", status=status, nonce=nonce, volgende=_next(target), message=message,
                      external=request.app.state.settings.external_issuer)
    response.set_cookie(LOGIN_COOKIE, nonce, **web_session.cookie_options(request.url.scheme, LOGIN_MINUTES * 60))
    return response


@router.get("/app/inloggen", summary="Inloggen")
def login_form(request: Request, volgende: str | None = None):
    if request.cookies.get(COOKIE):
        return redirect(_next(volgende))
    return _login_page(request, volgende)


@router.post("/app/inloggen", summary="Inloggen")
def login(request: Request, session: SessionDep, gebruikersnaam: Annotated[str, Form(max_length=100)],
          wachtwoord: Annotated[str, Form(max_length=200)], nonce: Annotated[str | None, Form(max_length=100)] = None,
          volgende: Annotated[str | None, Form(max_length=500)] = None):
    web_session.check(request.cookies.get(LOGIN_COOKIE), nonce)
    count_address(request)
    state = request.app.state
    ctx = auth_service.TokenContext(session, state.engine, state.settings, state.keyring, state.hasher,
                                    client_address(request))
    try:
        token, ttl = auth_service.password_grant(ctx, gebruikersnaam, wachtwoord)
    except ApiError as exc:
        if exc.status != 400:
            raise
        return _login_page(request, volgende, "Gebruikersnaam of wachtwoord onjuist.", status=400)
    response = redirect(_next(volgende))
    response.set_cookie(COOKIE, token, **web_session.cookie_options(request.url.scheme, ttl))
    response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
    return response


@router.post("/app/uitloggen", summary="Uitloggen")
def logout(request: Request, csrf: Annotated[str | None, Form(max_length=100)] = None):
    token = request.cookies.get(COOKIE)
    web_session.check(web_session.csrf_token(token) if token else None, csrf)
    response = redirect(f"{PREFIX}/inloggen")
    response.delete_cookie(COOKIE, path=PREFIX)
    return response
