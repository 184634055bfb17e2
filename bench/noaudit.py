"""BENCH ONLY, never deployed: the application with a no-op auditor, to measure what auditing reads costs.

Auditing cannot be switched off in the application (no setting exists, on purpose); this module,
imported only by the benchmark's comparison server (its own process), makes the auditor write
nothing. It patches the class rather than using `app.dependency_overrides`: FastAPI analyses an
overridden dependency's signature again on every request, which made the unaudited server slower
than the audited one and the overhead look negative.
"""

import logging

from app.audit.writer import Auditor
from app.factory import create_app

# As app.main does: both servers write the request log (casusregister.access), so that the difference
# between them is the auditing alone.
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")


def _write_nothing(*args, **kwargs) -> None:
    return None


Auditor.allowed = _write_nothing
Auditor.denied = _write_nothing
app = create_app()
