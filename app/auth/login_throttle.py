"""Failed-login rate limit per account and per address, kept in the database so replicas share it."""

from datetime import timedelta

from sqlalchemy import delete, func, or_
from sqlmodel import Session, select

from app.config import Settings
from app.errors import ApiError
from app.models import LoginFailure
from app.models.base import utcnow


def check(session: Session, settings: Settings, account: str, address: str) -> None:
    since = utcnow() - timedelta(seconds=settings.login_window_seconds)
    recent = select(func.count()).select_from(LoginFailure).where(LoginFailure.occurred_at > since)
    by_account = session.exec(recent.where(LoginFailure.account == account)).one()
    by_address = session.exec(recent.where(LoginFailure.address == address)).one()
    if by_account >= settings.login_max_failures_per_account or by_address >= settings.login_max_failures_per_address:
        raise ApiError(429, "Too many failed attempts; try again later.",
                       headers={"Retry-After": str(settings.login_window_seconds)})


def record_failure(engine, settings: Settings, account: str, address: str) -> None:
    """Commits on its own: the failed request rolls back, the failure must stay counted."""
    cutoff = utcnow() - timedelta(seconds=settings.login_window_seconds)
    with Session(engine) as session:
        session.add(LoginFailure(account=account, address=address))
        session.execute(delete(LoginFailure).where(
            LoginFailure.occurred_at < cutoff, or_(LoginFailure.account == account, LoginFailure.address == address)))
        session.commit()
