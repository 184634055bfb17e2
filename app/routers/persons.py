"""Person search for the coordinator: the query travels in the body and is audited."""

from fastapi import APIRouter, Request

from app.audit.writer import AuditorDep
from app.auth.policies.persons import candidates
from app.models.matching import PersonCandidates, PersonSearch

router = APIRouter(prefix="/persons", tags=["persons"])


@router.post("/search", response_model=PersonCandidates, summary="Find a person to decide whether to link")
def search_persons(query: PersonSearch, request: Request, auditor: AuditorDep):
    return PersonCandidates(items=candidates(auditor, request.app.state.settings.person_match_key, query))
