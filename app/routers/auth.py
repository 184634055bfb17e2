"""Tokens (the embedded identity provider), the public keys, and who the caller is."""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, Field

from app.auth.principal import CurrentPrincipal
from app.db import SessionDep
from app.errors import ApiError
from app.models import Organisation
from app.models.organisation import OrganisationPublic
from app.ratelimit import client_address, count_address
from app.services import auth as auth_service

router = APIRouter(prefix="/auth", tags=["auth"])
public_router = APIRouter(prefix="/auth", tags=["auth"])


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class Me(BaseModel):
    kind: Literal["user", "client"]
    id: uuid.UUID
    name: str
    organisation: OrganisationPublic
    roles: list[str]
    scopes: list[str]


FormText = Annotated[str | None, Field(max_length=500)]


class TokenRequest(BaseModel):
    """OAuth 2.0 token request (form encoded): the password or the client-credentials grant."""

    grant_type: Literal["password", "client_credentials"]
    username: Annotated[str | None, Field(max_length=100)] = None
    password: FormText = None
    client_id: Annotated[str | None, Field(max_length=90)] = None
    client_secret: FormText = None
    scope: FormText = None


@public_router.post("/token", response_model=TokenResponse, summary="Get an access token (OAuth 2.0)",
                    responses={401: {"description": "The client credentials are not valid (OAuth invalid_client)"},
                               429: {"description": "Too many failed attempts for this account or address, "
                                                    "or too many requests from this address"}})
def issue_token(request: Request, session: SessionDep, form: Annotated[TokenRequest, Form()]) -> TokenResponse:
    grant_type, username, password = form.grant_type, form.username, form.password
    client_id, client_secret, scope = form.client_id, form.client_secret, form.scope
    count_address(request)
    state = request.app.state
    ctx = auth_service.TokenContext(session, state.engine, state.settings, state.keyring, state.hasher,
                                    client_address(request))
    if grant_type == "password":
        if not username or not password:
            raise ApiError(400, "username and password are required for grant_type=password",
                           "oauth-invalid-request", error="invalid_request")
        token, ttl = auth_service.password_grant(ctx, username, password)
    else:
        if not client_id or not client_secret:
            raise ApiError(400, "client_id and client_secret are required for grant_type=client_credentials",
                           "oauth-invalid-request", error="invalid_request")
        token, ttl = auth_service.client_credentials_grant(ctx, client_id, client_secret, scope)
    return TokenResponse(access_token=token, expires_in=ttl)


@router.get("/me", response_model=Me, summary="Who am I")
def me(principal: CurrentPrincipal, session: SessionDep) -> Me:
    organisation = session.get(Organisation, principal.organisation_id)
    return Me(kind=principal.kind, id=principal.id, name=principal.name,
              organisation=OrganisationPublic.model_validate(organisation, from_attributes=True),
              roles=sorted(principal.roles), scopes=sorted(principal.scopes))
