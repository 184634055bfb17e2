"""Liveness, readiness and the token-signing keys: public, outside the versioned API."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.db import SessionDep

router = APIRouter(include_in_schema=False)


@router.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@router.get("/ready")
def ready(session: SessionDep) -> JSONResponse:
    try:
        session.execute(text("SELECT 1"))
    except Exception:  # any database failure means: not ready
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ready"})


@router.get("/.well-known/jwks.json")
async def jwks(request: Request) -> dict:
    return request.app.state.keyring.jwks()
