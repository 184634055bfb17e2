"""`casusregister worker`: its jobs, their schedules and backoff, one sealer and one retention run at a
time, the database clock, and the backlog monitoring reads."""

import logging
import os
import signal
import threading
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select
from typer.testing import CliRunner

from app import worker
from app.audit import chain as audit_chain
from app.cli import cli
from app.db import singleton
from app.models import LoginFailure, OutboxMessage
from app.models.base import utcnow
from app.services import outbox
from tests.db import inspect_connection
from tests.factories import cli_environment, submit
from tests.test_audit_chain import tamper

DELIVERED: list[uuid.UUID] = []
outbox.register_deliverer("test.worker", lambda session, message, http_client: DELIVERED.append(message.id))


@pytest.fixture
def postgresql_only(backend):
    if backend != "postgresql":
        pytest.skip("advisory locks and a database clock of its own are PostgreSQL's")


def terminate() -> None:
    os.kill(os.getpid(), signal.SIGTERM)  # as a service manager stops it


class TestRunner:
    def test_repeats_until_sigterm_and_stops_at_ctrl_c(self):
        before, calls = signal.getsignal(signal.SIGTERM), []

        def terminate_on_the_third_round():
            calls.append(1)
            if len(calls) == 3:
                terminate()
        worker.run_until_stopped(worker.Runner([worker.Job("j", 0, terminate_on_the_third_round)]))
        assert len(calls) == 3 and signal.getsignal(signal.SIGTERM) is before

        def interrupted():
            calls.append(1)
            raise KeyboardInterrupt
        worker.run_until_stopped(worker.Runner([worker.Job("j", 3600, interrupted)]))
        assert len(calls) == 4 and signal.getsignal(signal.SIGTERM) is before

    def test_skips_the_pause_while_work_is_waiting(self):
        rounds = []

        def busy_twice_then_terminate():
            rounds.append(1)
            if len(rounds) == 3:
                terminate()
            return len(rounds) < 3
        started = time.monotonic()
        worker.run_until_stopped(worker.Runner([worker.Job("j", 3600, busy_twice_then_terminate)]))
        assert len(rounds) == 3 and time.monotonic() - started < 60

    def test_a_failing_job_backs_off_and_recovers_while_the_others_keep_their_schedule(self, caplog):
        failing, steady = [], []
        runner = worker.Runner([], backoff_base=0.01, backoff_max=0.04)

        def database_down():
            failing.append(time.monotonic())
            if len(failing) <= 4:
                raise OperationalError("SELECT … WHERE bsn = '999990019'", {}, Exception("Jan de Vries"))
            runner.stop.set()

        runner.jobs = [worker.Job("seal", 0.001, database_down), worker.Job("deliver", 0.001, lambda: steady.append(1))]
        with caplog.at_level(logging.INFO, logger="casusregister.worker"):
            runner.run()
        assert len(failing) == 5 and len(steady) > len(failing)
        assert runner.jobs[0].failures == 0, "a success resets the backoff"
        logged = caplog.text
        assert "job seal failed with OperationalError (failure 4)" in logged and "recovered after 4" in logged
        assert "999990019" not in logged and "Jan de Vries" not in logged

    def test_backoff_is_exponential_capped_and_jittered(self):
        runner = worker.Runner([], backoff_base=2, backoff_max=60, rng=lambda: 1.0)
        assert [runner.backoff(n) for n in (1, 2, 3, 6, 20)] == [2, 4, 8, 60, 60]
        assert worker.Runner([], backoff_base=2, backoff_max=60, rng=lambda: 0.0).backoff(3) == 4


class TestJobs:
    def test_seal_deliver_and_purge(self, app, client, auth, monkeypatch):
        monkeypatch.setattr(app.state.settings, "audit_seal_margin_seconds", 0)
        settings, engine = app.state.settings, app.state.engine
        submit(client, auth("teacher"))
        with Session(engine) as session:
            message_id = outbox.enqueue(session, kind="test.worker", payload={}).id
            session.add(LoginFailure(account="old", address="192.0.2.1",
                                     occurred_at=utcnow() - timedelta(seconds=settings.login_window_seconds + 1)))
            session.add(LoginFailure(account="recent", address="192.0.2.1"))
            session.commit()
        assert worker.seal(engine, settings) is False
        assert worker.deliver(engine, settings) is True and message_id in DELIVERED
        assert worker.deliver(engine, settings) is False
        worker.purge_login_failures(engine, settings)
        with inspect_connection(app) as connection:
            verified = audit_chain.verify(connection)
        assert verified.broken is None and verified.seals >= 1 and verified.unsealed == 0
        with Session(engine) as session:
            assert session.exec(select(LoginFailure.account)).all() == ["recent"]

    def test_the_seal_cut_off_is_the_databases_clock_not_the_replicas(self, app, client, auth, monkeypatch,
                                                                      postgresql_only):
        submit(client, auth("teacher"))
        ahead = utcnow() + timedelta(days=1)  # a replica whose clock runs a day ahead
        monkeypatch.setattr("app.db.utcnow", lambda: ahead)
        monkeypatch.setattr("app.models.base.utcnow", lambda: ahead)
        with inspect_connection(app, write=True) as connection:
            assert audit_chain.seal(connection, margin_seconds=3600, batch_size=10) == 0

    def test_one_sealer_at_a_time(self, app, client, auth, postgresql_only):
        for _ in range(3):
            submit(client, auth("teacher"))
        with app.state.engine.begin() as first:
            assert audit_chain.seal(first, margin_seconds=0, batch_size=1) == 3
            with app.state.engine.begin() as second:  # while the first has not committed yet
                assert audit_chain.seal(second, margin_seconds=0, batch_size=1) == 0
        errors = []

        def seal_along():
            try:
                with app.state.engine.begin() as connection:
                    audit_chain.seal(connection, margin_seconds=0, batch_size=1)
            except Exception as exc:  # noqa: BLE001 - any failure of a racing sealer is the finding
                errors.append(exc)
        for _ in range(3):
            submit(client, auth("teacher"))
        sealers = [threading.Thread(target=seal_along) for _ in range(4)]
        for sealer in sealers:
            sealer.start()
        for sealer in sealers:
            sealer.join()
        with inspect_connection(app) as connection:
            verified = audit_chain.verify(connection)
        assert errors == [] and verified.broken is None and verified.unsealed == 0 and verified.seals == 6

    def test_sealing_stops_at_the_first_event_younger_than_the_cut_off(self, app, client, auth, backend):
        for _ in range(3):
            submit(client, auth("teacher"))
        with inspect_connection(app) as connection:
            middle = connection.execute(text("SELECT min(seq) + 1 FROM audit_events")).scalar_one()
        young = (utcnow() + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")  # as a replica running ahead wrote it
        tamper(app, backend, f"UPDATE audit_events SET occurred_at = '{young}' WHERE seq = {middle}")
        with inspect_connection(app, write=True) as connection:
            assert audit_chain.seal(connection, margin_seconds=0, batch_size=10) == 1
            assert audit_chain.verify(connection).unsealed == 2, "neither the young event nor the one after it"

    def test_an_event_committed_while_the_sealer_reads_waits_for_the_next_run(self, app, client, auth, monkeypatch):
        submit(client, auth("teacher"))
        real_leaves = audit_chain.audit_leaves.leaves

        def another_request_commits_meanwhile(connection, after, until):
            submit(client, auth("teacher"))
            return real_leaves(connection, after, until + 1)  # what a later snapshot of the span holds
        monkeypatch.setattr(audit_chain.audit_leaves, "leaves", another_request_commits_meanwhile)
        with inspect_connection(app, write=True) as connection:
            assert audit_chain.seal(connection, margin_seconds=0, batch_size=10) == 0
        monkeypatch.undo()
        with inspect_connection(app, write=True) as connection:
            assert audit_chain.seal(connection, margin_seconds=0, batch_size=10) == 1
            assert audit_chain.verify(connection).broken is None

    def test_an_open_writing_transaction_holds_the_cut_off_back(self, app, client, auth, postgresql_only):
        submit(client, auth("teacher"))
        with app.state.engine.begin() as writer:  # began before the next event: it could hold a lower seq
            writer.execute(text("INSERT INTO case_number_sequences (municipality_id, year, last_number) "
                                "SELECT id, 1999, 0 FROM organisations WHERE code = 'UTR'"))
            time.sleep(0.05)
            submit(client, auth("teacher"))
            with inspect_connection(app, write=True) as connection:
                assert audit_chain.seal(connection, margin_seconds=0, batch_size=10) == 1
                assert audit_chain.verify(connection).unsealed == 1
            writer.rollback()
        with inspect_connection(app, write=True) as connection:
            assert audit_chain.seal(connection, margin_seconds=0, batch_size=10) == 1

    def test_one_retention_run_at_a_time(self, app, monkeypatch, postgresql_only):
        runs = []
        monkeypatch.setattr(worker.retention, "run", lambda session, settings, operator: runs.append(operator))
        with singleton(app.state.engine, worker.RETENTION_LOCK) as ours:  # another worker's run
            assert ours
            worker.erase_due(app.state.engine, app.state.settings)
            assert runs == []
        worker.erase_due(app.state.engine, app.state.settings)
        assert runs == [worker.OPERATOR]


class TestBacklog:
    def test_ready_shows_a_stalled_sealer_and_outbox_until_the_worker_catches_up(self, app, client, auth, monkeypatch):
        settings = app.state.settings
        for name, value in (("audit_seal_margin_seconds", 0), ("worker_seal_interval_seconds", 0.001),
                            ("worker_delivery_interval_seconds", 0.001)):
            monkeypatch.setattr(settings, name, value)
        monkeypatch.setattr("app.monitoring.GRACE_SECONDS", 0)
        submit(client, auth("teacher"))
        with Session(app.state.engine) as session:
            outbox.enqueue(session, kind="test.worker", payload={})
            session.commit()
        time.sleep(0.05)
        stalled = client.get("/ready").json()["backlog"]
        assert stalled["sealing_stalled"] and stalled["delivery_stalled"] and stalled["outbox_pending"] == 1
        assert stalled["oldest_unsealed_event_age_seconds"] >= 0
        worker.seal(app.state.engine, settings)
        worker.deliver(app.state.engine, settings)
        caught_up = client.get("/ready").json()["backlog"]
        assert not caught_up["sealing_stalled"] and not caught_up["delivery_stalled"]
        assert caught_up["oldest_unsealed_event_age_seconds"] is None and caught_up["outbox_pending"] == 0
        assert caught_up["newest_seal_age_seconds"] >= 0

    def test_a_dead_letter_is_counted(self, app, client):
        with Session(app.state.engine) as session:
            session.add(OutboxMessage(kind="test.worker", payload={}, status="dead"))
            session.commit()
        assert client.get("/ready").json()["backlog"]["outbox_dead"] == 1


class TestCommands:
    @pytest.fixture
    def env(self, tmp_path, monkeypatch):
        cli_environment(tmp_path, monkeypatch)
        monkeypatch.setenv("AUDIT_SEAL_MARGIN_SECONDS", "0")
        run = CliRunner().invoke
        assert run(cli, ["migrate"]).exit_code == 0 and run(cli, ["seed-demo", "--no-week"]).exit_code == 0
        return monkeypatch

    def test_status_exits_1_while_a_worker_is_stalled(self, env, tmp_path):
        import sqlite3
        with sqlite3.connect(tmp_path / "cli.db") as db:
            db.execute("INSERT INTO outbox_messages (id, kind, payload, status, attempts, next_attempt_at, created_at) "
                       "VALUES ('0b4b0f10c3a64f3aa7f9a3c1d3b0e001', 'test.worker', '{}', 'pending', 0, "
                       "'2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000')")
        stalled = CliRunner().invoke(cli, ["status"])
        assert stalled.exit_code == 1 and "delivery_stalled: True" in stalled.output
        assert CliRunner().invoke(cli, ["webhooks", "deliver", "--once"]).exit_code == 0
        fine = CliRunner().invoke(cli, ["status"])
        assert fine.exit_code == 0 and "outbox_pending: 0" in fine.output

    def test_worker_runs_its_jobs_until_sigterm(self, env, monkeypatch):
        real_seal, seals = worker.seal, []

        def seal_then_terminate(engine, settings):
            seals.append(real_seal(engine, settings))
            terminate()  # mid-round: the job finishes, the worker stops before the next
            return False
        monkeypatch.setattr(worker, "seal", seal_then_terminate)
        started = time.monotonic()
        result = CliRunner().invoke(cli, ["worker"])
        assert result.exit_code == 0 and "stopped" in result.output and seals == [False]
        assert time.monotonic() - started < 30


def test_the_database_connection_lock_is_released_when_its_holder_dies(app, postgresql_only):
    """A worker killed mid-run loses its lock with its connection, so another worker takes over."""
    holder = app.state.engine.connect()
    assert holder.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": worker.RETENTION_LOCK}).scalar_one()
    with singleton(app.state.engine, worker.RETENTION_LOCK) as ours:
        assert not ours
    holder.invalidate()  # the connection is closed under it, as when the process dies
    holder.close()
    with singleton(app.state.engine, worker.RETENTION_LOCK) as ours:
        assert ours
