"""The audit log in the model of the Logboek Dataverwerkingen standard (Logius, LDV 1.0): one record
per processing step and data subject, a span of its W3C trace, tied to a processing activity of the
register. The record's form is tests/logboek_record.schema.json, written from the standard's text.

Deliberate choices: times as RFC 3339 UTC (as the standard's read extension writes them); a step
about several persons is the step's own span for the first and a child span of it for each further
person (derived from the step's span, so the export is repeatable; whatever names the step's span,
an outbound `traceparent` or another registry's record, finds it), a step about no person and a denied attempt are no processing of anyone's data and
are not exported in this form (they stay in the registry's own format); events written before the
trace context existed get the span their event id gives them.
"""

import hashlib
import uuid
from datetime import UTC, datetime

from app import API_VERSION
from app.models.audit import Outcome
from app.models.processing import URI_PREFIX
from app.privacy.register import registered_key

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
    attributes = {"dpl.core.processing_activity_id": URI_PREFIX + registered_key(event["processing_activity"]),
                  "dpl.core.data_subject_id_type": SUBJECT_TYPE}
    if event["foreign_processor"]:
        attributes["dpl.core.foreign_operation.processor"] = event["foreign_processor"]
    name, trace = f"{event['operation']} {event['resource_type']}", _trace_id(event)

    def record(pseudonym: str, span_id: str, parent: str | None) -> dict:
        return {"trace_id": trace, "span_id": span_id, "parent_span_id": parent, "name": name, "start_time": moment,
                "end_time": moment, "status": "Ok", "resource": RESOURCE,
                "attributes": (attributes if parent == event["parent_span_id"] else _own(attributes))
                | {"dpl.core.data_subject_id": pseudonym}}

    first, *others = persons
    return [record(first, span, event["parent_span_id"])] + [record(p, _child_span(span, p), span) for p in others]


def _own(attributes: dict) -> dict:
    """A child span's parent is our own step: no foreign operation."""
    return {k: v for k, v in attributes.items() if k != "dpl.core.foreign_operation.processor"}
