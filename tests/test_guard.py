"""The runtime guard: no statement touches a table with personal data outside an access context,
however it is written. Tried the ways a careless colleague would write one."""

import ast
import uuid
from pathlib import Path

import pytest
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from sqlalchemy import delete, insert, text, update
from sqlmodel import Session as PlainSession
from sqlmodel import select

from app.auth import guard, tenancy
from app.auth.principal import get_principal
from app.db import Session, SessionDep
from app.factory import create_app
from app.models import AuditEvent, Case, Organisation, Signal, metadata
from app.models import Person as P  # an alias must not get past it
from tests.factories import submit

APP = Path(__file__).resolve().parent.parent / "app"
# Who opens access contexts (guard.access, tenancy.maintenance): the policies and the audit log, the
# privacy officer's tools, the unit of work, migrations and demo data. Nothing else.
# monitoring.py counts and ages over the whole registry for /ready: no row leaves it.
OPENERS = {"auth", "audit", "privacy", "db.py", "migrate.py", "demo.py", "monitoring.py"}


def test_every_table_is_classified_as_personal_or_not():
    assert guard.PERSONAL_TABLES.isdisjoint(guard.OTHER_TABLES)
    assert set(metadata.tables) | {"alembic_version"} == guard.PERSONAL_TABLES | guard.OTHER_TABLES


@pytest.mark.parametrize("table", sorted(guard.PERSONAL_TABLES))
def test_text_on_any_personal_table_is_refused(app, table):
    with Session(app.state.engine) as session, pytest.raises(guard.UnguardedAccess, match=table):
        session.execute(text(f"SELECT count(*) FROM {table}"))


SPELLINGS = {
    "orm entity": lambda s: s.exec(select(Signal)).all(),
    "core table": lambda s: s.execute(select(Signal.__table__)).all(),
    "import alias": lambda s: s.exec(select(P.name)).all(),
    "get by id": lambda s: s.get(Case, uuid.uuid4()),
    "text": lambda s: s.execute(text("SELECT name, bsn FROM persons")).all(),
    "quoted": lambda s: s.execute(text('SELECT * FROM "cases"')).all(),
    "lower level": lambda s: s.connection().exec_driver_sql("SELECT * FROM audit_events").all(),
    "join by a child table": lambda s: s.execute(text("SELECT o.name FROM organisations o JOIN case_members m "
                                                      "ON m.organisation_id = o.id")).all(),
    "core update": lambda s: s.execute(update(Signal).values(status="received")),
    "core delete": lambda s: s.execute(delete(AuditEvent.__table__)),
    "core insert": lambda s: s.execute(insert(Signal.__table__).values(id=uuid.uuid4())),
}


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_each_spelling_is_refused_outside_a_context(app, spelling):
    with Session(app.state.engine) as session, pytest.raises(guard.UnguardedAccess):
        SPELLINGS[spelling](session)


def test_inside_a_context_the_same_statements_run(client, auth, app):
    submit(client, auth("teacher"))
    with Session(app.state.engine) as session, tenancy.maintenance("test", session):
        assert len(session.exec(select(Signal)).all()) == 1
        assert session.execute(text("SELECT count(*) FROM persons")).scalar_one() == 1


def test_tables_without_personal_data_need_no_context(app):
    with Session(app.state.engine) as session:
        assert session.exec(select(Organisation)).all()
        assert session.execute(text("SELECT count(*) FROM users")).scalar_one() > 0


def test_names_are_matched_as_whole_words():
    assert guard.personal_tables("SELECT * FROM audit_event_persons") == {"audit_event_persons"}
    assert guard.personal_tables("SELECT case_id, signal_id FROM referral_lookup") == set()
    assert guard.personal_tables("select * from CASES") == {"cases"}


def test_a_unit_of_work_outside_the_guarded_session_is_refused(app):
    """Only the application's session flushes inside a context; a plain one fails closed."""
    with PlainSession(app.state.engine) as session, pytest.raises(guard.UnguardedAccess):
        session.add(Signal(id=uuid.uuid4()))
        session.flush()


def test_a_request_that_skips_the_policies_fails_without_data(client, auth, app, caplog):
    """An endpoint a colleague adds that reads a sensitive table directly answers 500, not the data."""
    leaky = create_app(app.state.settings)
    router = APIRouter(dependencies=[Depends(get_principal)])

    @router.get("/api/v1/leak")
    def leak(session: SessionDep):
        return [s.description for s in session.exec(select(Signal)).all()]

    leaky.include_router(router)
    submit(client, auth("teacher"))
    with TestClient(leaky, raise_server_exceptions=False) as other:
        response = other.get("/api/v1/leak", headers=auth("coordinator"))
    assert response.status_code == 500 and "extremistische" not in response.text
    assert "UnguardedAccess" in caplog.text
    leaky.state.engine.dispose()


def _opens_a_context(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return False
    owner = node.func.value.id if isinstance(node.func.value, ast.Name) else None
    return (owner, node.func.attr) in {("guard", "access"), ("tenancy", "maintenance"), ("tenancy", "act_for")}


def test_only_the_policy_layer_opens_access_contexts():
    openers = set()
    for path in APP.rglob("*.py"):
        if any(_opens_a_context(node) for node in ast.walk(ast.parse(path.read_text()))):
            openers.add(path.relative_to(APP).parts[0])
    assert openers <= OPENERS | {"services"}, openers
    services = {p.name for p in (APP / "services").glob("*.py")
                if any(_opens_a_context(n) for n in ast.walk(ast.parse(p.read_text())))}
    # The outbox worker gives a deliverer the whole registry as its tenant; it opens no guard context.
    assert services <= {"delivery.py"}, services
