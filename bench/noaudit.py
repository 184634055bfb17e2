"""BENCH ONLY, never deployed: the application with a no-op auditor, to measure what auditing reads costs.

Auditing cannot be switched off in the application (no setting exists, on purpose); this module
replaces the auditor dependency for the benchmark's comparison run only.
"""

from fastapi import Request

from app.auth.audit import Auditor, get_auditor
from app.auth.principal import CurrentPrincipal
from app.db import SessionDep
from app.factory import create_app


class NoAuditor(Auditor):
    def allowed(self, *args, **kwargs) -> None:
        return None

    def denied(self, *args, **kwargs) -> None:
        return None


def no_auditor(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Auditor:
    return NoAuditor(request, session, principal)


app = create_app()
app.dependency_overrides[get_auditor] = no_auditor
