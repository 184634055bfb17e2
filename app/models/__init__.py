"""All table models, imported here so SQLModel.metadata knows every table (Alembic relies on it)."""

from app.models.action import Action
from app.models.audit import AuditAnchor, AuditEvent, AuditEventPerson, AuditSeal
from app.models.base import metadata
from app.models.case import Case, CaseHistory, CaseMember, CaseNumberSequence
from app.models.emergency import EmergencyAccess
from app.models.idempotency import IdempotencyRecord
from app.models.identity import ApiClient, LoginFailure, Role, Scope, User
from app.models.item import InformationItem, ItemShare
from app.models.meeting import (
    AgendaAddendum,
    AgendaItem,
    ClosureProposal,
    Meeting,
    MeetingAttendee,
)
from app.models.organisation import Organisation, OrganisationKind, OrganisationNetwork
from app.models.outbox import OutboxMessage, Subscription
from app.models.person import MatchLock, Person
from app.models.processing import ProcessingActivity
from app.models.referral import ExternalEndpoint, Referral, ReferralItem
from app.models.signal import Signal

__all__ = [
    "Action",
    "AgendaAddendum",
    "AgendaItem",
    "ClosureProposal",
    "Meeting",
    "MeetingAttendee",
    "ApiClient",
    "AuditAnchor",
    "AuditEvent",
    "AuditEventPerson",
    "AuditSeal",
    "Case",
    "CaseHistory",
    "CaseMember",
    "CaseNumberSequence",
    "EmergencyAccess",
    "ProcessingActivity",
    "ExternalEndpoint",
    "IdempotencyRecord",
    "InformationItem",
    "ItemShare",
    "LoginFailure",
    "MatchLock",
    "Organisation",
    "OrganisationKind",
    "OrganisationNetwork",
    "OutboxMessage",
    "Person",
    "Referral",
    "ReferralItem",
    "Role",
    "Scope",
    "Signal",
    "Subscription",
    "User",
    "metadata",
]
