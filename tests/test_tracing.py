"""W3C Trace Context on requests: the caller's trace continued where its `traceparent` is valid, a new
one otherwise; either way each audited step is a span of the registry's own."""

import pytest
from sqlmodel import select

from app.models import AuditEvent
from app.tracing import Trace
from tests.db import inspect_db
from tests.factories import signal_body

TRACE, SPAN = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"


@pytest.mark.parametrize("header", [
    f"00-{TRACE}-{SPAN}-01", f"00-{TRACE}-{SPAN}-00", f" 00-{TRACE}-{SPAN}-01 ",
    f"01-{TRACE}-{SPAN}-01-later-fields",  # a later version: its first fields are read
])
def test_a_valid_traceparent_is_continued(header):
    trace = Trace.received(header, "new")
    assert (trace.trace_id, trace.parent_span_id, trace.foreign) == (TRACE, SPAN, True)


@pytest.mark.parametrize("header", [
    None, "", "garbage", f"00-{TRACE.upper()}-{SPAN}-01", f"ff-{TRACE}-{SPAN}-01", f"00-{'0' * 32}-{SPAN}-01",
    f"00-{TRACE}-{'0' * 16}-01", f"00-{TRACE}-{SPAN}-01-extra", f"00-{TRACE[:-1]}-{SPAN}-01", f"00_{TRACE}_{SPAN}_01",
])
def test_an_absent_or_invalid_traceparent_starts_a_new_trace(header):
    trace = Trace.received(header, "a" * 32)
    assert (trace.trace_id, trace.parent_span_id, trace.foreign) == ("a" * 32, None, False)


def test_each_audited_step_is_a_span_of_our_own_under_the_callers(client, auth, app):
    traced = client.post("/api/v1/signals", json=signal_body(),
                         headers=auth("teacher") | {"traceparent": f"00-{TRACE}-{SPAN}-01"})
    fresh = client.post("/api/v1/signals", json=signal_body(), headers=auth("teacher") | {"traceparent": "nonsense"})
    assert traced.status_code == fresh.status_code == 201
    assert traced.headers["x-request-id"] != TRACE  # the request id stays the registry's own
    with inspect_db(app) as session:
        [continued] = session.exec(select(AuditEvent).where(AuditEvent.trace_id == TRACE)).all()
        [started] = session.exec(select(AuditEvent).where(
            AuditEvent.trace_id == fresh.headers["x-request-id"])).all()
    assert continued.parent_span_id == SPAN and len(continued.span_id) == 16 and continued.span_id != SPAN
    assert continued.foreign_processor == "urn:nl:casusregister:user-application"  # not ours, if not named
    assert started.foreign_processor is None
    assert started.parent_span_id is None and started.span_id != continued.span_id


def test_a_system_calling_with_its_trace_is_named_as_the_foreign_processor(client, auth, app):
    client.post("/api/v1/signals", json=signal_body(),
                headers=auth.client("arnhem-system") | {"traceparent": f"00-{TRACE}-{SPAN}-01"})
    with inspect_db(app) as session:
        [event] = session.exec(select(AuditEvent).where(AuditEvent.trace_id == TRACE)).all()
    assert event.foreign_processor == "urn:nl:casusregister:client:arnhem-system"
