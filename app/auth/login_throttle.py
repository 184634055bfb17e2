"""Failed-login rate limit per account and per address, kept in the database so replicas share it.

An attempt is recorded, and committed, before the password is checked, and removed again when it
succeeds; so parallel guesses count against the limit before any of them is verified.
"""

import uuid
from datetime import timedelta

from sqlalchemy import Engine, delete, func, or_
from sqlmodel import Session, select

from app.config import Settings
from app.errors import ApiError
from app.models import LoginFailure
from app.models.base import utcnow


def begin_attempt(engine: Engine, settings: Settings, account: str, address: str) -> uuid.UUID:
    """Records the attempt; raises 429 when the account or the address is over its limit."""
    cutoff = utcnow() - timedelta(seconds=settings.login_window_seconds)
    attempt = LoginFailure(account=account, address=address)
    attempt_id = attempt.id
    with Session(engine) as session:
        session.add(attempt)
        session.execute(delete(LoginFailure).where(
            LoginFailure.occurred_at < cutoff, or_(LoginFailure.account == account, LoginFailure.address == address)))
        session.commit()
        recent = select(func.count()).select_from(LoginFailure).where(LoginFailure.occurred_at >= cutoff)
        by_account = session.exec(recent.where(LoginFailure.account == account)).one()
        by_address = session.exec(recent.where(LoginFailure.address == address)).one()
    if by_account > settings.login_max_failures_per_account or by_address > settings.login_max_failures_per_address:
        raise ApiError(429, "Too many failed attempts; try again later.",
                       headers={"Retry-After": str(settings.login_window_seconds)})
    return attempt_id


def succeeded(engine: Engine, attempt_id: uuid.UUID) -> None:
    with Session(engine) as session:
        session.execute(delete(LoginFailure).where(LoginFailure.id == attempt_id))
        session.commit()
