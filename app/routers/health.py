"""Liveness, readiness and the token-signing keys: public, outside the versioned API."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.db import SessionDep
from app.monitoring import backlog

router = APIRouter(include_in_schema=False)


@router.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@router.get("/ready")
def ready(request: Request, session: SessionDep) -> JSONResponse:
    """Ready while the database answers; the backlog tells monitoring whether the workers keep up (a
    stalled worker does not make this replica unfit to serve)."""
    try:
        found = backlog(session.connection(), request.app.state.settings)
    except Exception:  # any database failure means: not ready
        return JSONResponse({"status": "unavailable"}, status_code=503, headers={"Retry-After": "2"})
    return JSONResponse({"status": "ready", "backlog": found.as_dict()})


@router.get("/.well-known/jwks.json")
async def jwks(request: Request) -> dict:
    return request.app.state.keyring.jwks()
