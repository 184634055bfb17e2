"""W3C Trace Context: the trace a request or a delivery belongs to, so that the audit events of one
referral link up across registries (the Logboek Dataverwerkingen model).

A request's trace comes from its `traceparent` header, or starts with it. Each audited step is a span
of its own, child of the caller's span; a message sent on later (outbox) carries the span of the step
that wrote it, and its delivery continues that trace with a span of its own, sent on in `traceparent`.
"""

import re
import secrets
from contextvars import ContextVar
from dataclasses import dataclass

# version 00: trace id, parent id, flags; later versions may append fields after these (W3C §3.2.4).
_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
_INVALID_TRACE, _INVALID_SPAN = "0" * 32, "0" * 16


def new_trace_id() -> str:
    return secrets.token_hex(16)


def new_span_id() -> str:
    return secrets.token_hex(8)


def format_traceparent(trace_id: str, span_id: str) -> str:
    return f"00-{trace_id}-{span_id}-01"


@dataclass
class Trace:
    trace_id: str
    parent_span_id: str | None  # the span the work was asked for in: the caller's, or the step that sent it on
    foreign: bool  # whether that span is another system's (a `traceparent` received), not ours
    last_span_id: str | None = None  # the latest step's span: where a message sent on continues the trace

    @classmethod
    def start(cls, trace_id: str | None = None) -> "Trace":
        return cls(trace_id or new_trace_id(), None, False)

    @classmethod
    def received(cls, header: str | None, trace_id: str | None = None) -> "Trace":
        """The caller's trace from its `traceparent`; a new one (`trace_id`) where it sent none or an invalid one."""
        parsed = _TRACEPARENT.match(header.strip()) if header else None
        if parsed is None or parsed[1] == "ff" or (parsed[1] == "00" and parsed[5]):
            return cls.start(trace_id)
        if parsed[2] == _INVALID_TRACE or parsed[3] == _INVALID_SPAN:
            return cls.start(trace_id)
        return cls(parsed[2], parsed[3], True)

    @classmethod
    def continued(cls, traceparent: str | None) -> "Trace":
        """Our own trace, continued by later work (a delivery of a message a step wrote)."""
        trace = cls.received(traceparent)
        trace.foreign = False
        return trace

    def step(self) -> str:
        """A new span for one audited step of this work."""
        self.last_span_id = new_span_id()
        return self.last_span_id

    def traceparent(self) -> str:
        """The header that hands this trace on: from the latest audited step; before any, in work that
        continues our own trace, from the step that sent it on (both in our log); else a fresh span."""
        span = self.last_span_id or (self.parent_span_id if not self.foreign else None) or self.step()
        return format_traceparent(self.trace_id, span)


# The trace of the work under way: a mutable object, so that a step audited in one thread (a dependency
# run in the thread pool) is seen by code running later in another.
_current: ContextVar[Trace | None] = ContextVar("casusregister_trace", default=None)


def current() -> Trace | None:
    return _current.get()


def use(trace: Trace):
    """Makes `trace` the current one; returns the token to `reset` it with."""
    return _current.set(trace)


def reset(token) -> None:
    _current.reset(token)


def current_traceparent() -> str | None:
    trace = current()
    return None if trace is None else trace.traceparent()


def outgoing_traceparent() -> str:
    """The header for a call this work makes: in its trace, or (outside any) in a trace of its own."""
    return current_traceparent() or Trace.start().traceparent()
