"""The directory of organisations in the network: any signed-in caller may read it."""

from fastapi import APIRouter
from sqlmodel import select

from app.db import SessionDep
from app.models import Organisation
from app.models.organisation import OrganisationPublic

router = APIRouter(prefix="/organisations", tags=["organisations"])


@router.get("", response_model=list[OrganisationPublic], summary="The organisations in the network")
def list_organisations(session: SessionDep):
    return session.exec(select(Organisation).order_by(Organisation.name)).all()
