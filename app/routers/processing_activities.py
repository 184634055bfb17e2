"""The register of processing activities (AVG art. 30): what the registry does with personal data, why
and on which legal basis. Any signed-in caller may read it; it holds no personal data."""

from typing import Annotated

from fastapi import APIRouter, Path
from sqlmodel import select

from app.db import SessionDep
from app.errors import not_found
from app.models import ProcessingActivity
from app.models.processing import KEY_PATTERN, ProcessingActivityPage, ProcessingActivityPublic
from app.privacy import register

router = APIRouter(prefix="/processing-activities", tags=["processing-activities"])
Key = Annotated[str, Path(description="The activity's key, e.g. signal-intake", max_length=60,
                          pattern=KEY_PATTERN)]


@router.get("", response_model=ProcessingActivityPage, summary="The register of processing activities (current versions)")
def list_processing_activities(session: SessionDep):
    return ProcessingActivityPage(items=register.latest(session.connection()), next_cursor=None)


@router.get("/{key}", response_model=ProcessingActivityPublic, summary="One processing activity (current version)")
def read_processing_activity(key: Key, session: SessionDep):
    found = [a for a in register.latest(session.connection()) if a.key == key]
    if not found:
        raise not_found()
    return found[0]


@router.get("/{key}/versions", response_model=ProcessingActivityPage,
            summary="Every version of a processing activity, oldest first: an audit event names the one it was written under")
def list_processing_activity_versions(key: Key, session: SessionDep):
    versions = session.exec(select(ProcessingActivity).where(ProcessingActivity.key == key)
                            .order_by(ProcessingActivity.version)).all()
    if not versions:
        raise not_found()
    return ProcessingActivityPage(items=versions, next_cursor=None)
