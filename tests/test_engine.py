"""How the application's engine sets up its PostgreSQL connections."""

import pytest
from sqlalchemy import text

from tests.db import inspect_connection


def test_postgresql_connections_run_without_jit(app, backend):
    """Compiling plans (JIT) costs this application's once-per-request statements more than it saves (app.db)."""
    if backend != "postgresql":
        pytest.skip("JIT is PostgreSQL's")
    app.state.engine.dispose()  # a connection made now, not one pooled before
    with inspect_connection(app) as connection:
        assert connection.execute(text("SHOW jit")).scalar_one() == "off"
