"""The audit log in the model of the Logboek Dataverwerkingen standard (Logius, LDV 1.0): one record
per processing step and data subject, a span of its W3C trace, tied to a processing activity of the
register. The record's form is tests/logboek_record.schema.json, written from the standard's text.

Deliberate choices: times as RFC 3339 UTC (as the standard's read extension writes them); a step
about several persons becomes one child span per person (derived from the step's span, so the export
is repeatable), a step about no person and a denied attempt are no processing of anyone's data and
are not exported in this form (they stay in the registry's own format); events written before the
trace context existed get the span their event id gives them.
"""

import hashlib
import uuid
from datetime import UTC, datetime

from app import API_VERSION
from app.models.audit import Outcome
from app.models.processing import URI_PREFIX

SUBJECT_TYPE = "urn:nl:casusregister:pseudoniem"  # the registry's own pseudonym, never the BSN
RESOURCE = {"attributes": {"service.name": "casusregister", "service.version": API_VERSION}}
PROCESSED = {Outcome.allowed, Outcome.emergency}


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _trace_id(event: dict) -> str:
    """Events written before trace context had a UUID for a trace id: the same 128 bits, as W3C writes them."""
    trace = event["trace_id"]
    return trace if len(trace) == 32 else uuid.UUID(trace).hex


def _span(event: dict) -> str:
    return event["span_id"] or uuid.UUID(str(event["event_id"])).hex[:16]


def _child_span(span: str, pseudonym: str) -> str:
    return hashlib.sha256(f"{span}|{pseudonym}".encode()).hexdigest()[:16]


def records(event: dict, persons: list[str]) -> list[dict]:
    """The event's records: one per person whose data the step processed."""
    if event["outcome"] not in PROCESSED or not persons:
        return []
    span, moment = _span(event), _time(event["occurred_at"])
    attributes = {"dpl.core.processing_activity_id": URI_PREFIX + event["processing_activity"],
                  "dpl.core.data_subject_id_type": SUBJECT_TYPE}
    if event["foreign_processor"]:
        attributes["dpl.core.foreign_operation.processor"] = event["foreign_processor"]
    name = f"{event['operation']} {event['resource_type']}"
    return [{"trace_id": _trace_id(event), "span_id": span if len(persons) == 1 else _child_span(span, pseudonym),
             "parent_span_id": event["parent_span_id"], "name": name, "start_time": moment, "end_time": moment,
             "status": "Ok", "resource": RESOURCE,
             "attributes": attributes | {"dpl.core.data_subject_id": pseudonym}} for pseudonym in persons]
