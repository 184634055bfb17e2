"""Erasure of what is past its retention period, in batches, idempotently; counts are audited,
the erased content is not kept anywhere."""

from dataclasses import asdict, dataclass
from datetime import timedelta

from sqlalchemy import and_, delete, exists, func, or_, select
from sqlmodel import Session

from app.audit.writer import write_system_event
from app.auth import tenancy
from app.config import Settings
from app.models import (
    Action,
    AgendaAddendum,
    AgendaItem,
    Case,
    CaseHistory,
    CaseMember,
    ClosureProposal,
    EmergencyAccess,
    IdempotencyRecord,
    InformationItem,
    ItemShare,
    OutboxMessage,
    Person,
    Referral,
    ReferralItem,
    Signal,
)
from app.models.base import utcnow
from app.models.case import CaseStatus
from app.models.outbox import MessageStatus
from app.models.signal import SignalStatus

BATCH = 500


@dataclass
class Erasure:
    signals: int = 0
    cases: int = 0
    information_items: int = 0
    persons: int = 0
    outbox_messages: int = 0


def _due_signals(settings: Settings):
    cutoff = utcnow() - timedelta(days=settings.retention_no_action_signal_days)
    return select(Signal.id).where(Signal.status == SignalStatus.no_further_action, Signal.triaged_at < cutoff)


def _due_cases(settings: Settings):
    cutoff = utcnow() - timedelta(days=settings.retention_closed_case_days)
    return select(Case.id).where(Case.status == CaseStatus.closed, Case.updated_at < cutoff)


def _finished_outbox_messages(settings: Settings):
    """Delivered and dead-lettered messages: kept a while for the subscriber to inspect or redeliver,
    then dropped so the outbox does not grow without bound (they hold ids only, nothing personal)."""
    cutoff = utcnow() - timedelta(days=settings.retention_outbox_days)
    return select(OutboxMessage.id).where(OutboxMessage.status.in_([MessageStatus.delivered, MessageStatus.dead]),
                                          OutboxMessage.created_at < cutoff)


def _orphans():
    return select(Person.id).where(~exists().where(Signal.person_id == Person.id),
                                   ~exists().where(Case.person_id == Person.id))


def _erase_referrals(session: Session, column, ids: list) -> None:
    """Referrals go with the case they were made from, or the signal an incoming one became."""
    referrals = select(Referral.id).where(column.in_(ids))
    session.execute(delete(ReferralItem).where(ReferralItem.referral_id.in_(referrals)))
    session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.resource_id.in_(referrals)))
    session.execute(delete(Referral).where(column.in_(ids)))


def _erase_signals(session: Session, ids: list) -> int:
    _erase_referrals(session, Referral.signal_id, ids)
    session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.resource_id.in_(ids)))
    return session.execute(delete(Signal).where(Signal.id.in_(ids))).rowcount


def _erase_cases(session: Session, ids: list, erased: Erasure) -> None:
    items = select(InformationItem.item_id).where(InformationItem.case_id.in_(ids))
    session.execute(delete(ItemShare).where(ItemShare.item_id.in_(items)))
    erased.information_items += session.execute(delete(InformationItem).where(InformationItem.case_id.in_(ids))).rowcount
    _erase_referrals(session, Referral.case_id, ids)
    for model in (CaseMember, CaseHistory, EmergencyAccess, Action, ClosureProposal):
        session.execute(delete(model).where(model.case_id.in_(ids)))
    agenda_items = select(AgendaItem.id).where(AgendaItem.case_id.in_(ids))
    session.execute(delete(AgendaAddendum).where(AgendaAddendum.agenda_item_id.in_(agenda_items)))
    session.execute(delete(AgendaItem).where(AgendaItem.case_id.in_(ids)))
    erased.signals += _erase_signals(session, list(session.execute(select(Signal.id).where(Signal.case_id.in_(ids)))
                                                   .scalars()))
    erased.cases += session.execute(delete(Case).where(Case.id.in_(ids))).rowcount


def _count(session: Session, query) -> int:
    return session.execute(select(func.count()).select_from(query.subquery())).scalar_one()


def dry_run(session: Session, settings: Settings) -> Erasure:
    """What a run would erase now: due signals and cases, what hangs on them, and persons left with nothing."""
    with tenancy.maintenance("retention", session):
        return _dry_run(session, settings)


def _dry_run(session: Session, settings: Settings) -> Erasure:
    cases, signals = _due_cases(settings), _due_signals(settings)
    erased_signal = or_(Signal.id.in_(signals), Signal.case_id.in_(cases))
    kept_signal = and_(Signal.id.not_in(signals), or_(Signal.case_id.is_(None), Signal.case_id.not_in(cases)))
    remaining = (~exists().where(Signal.person_id == Person.id, kept_signal)
                 & ~exists().where(Case.person_id == Person.id, Case.id.not_in(cases)))
    return Erasure(signals=_count(session, select(Signal.id).where(erased_signal)), cases=_count(session, cases),
                   information_items=_count(session, select(InformationItem.id).where(InformationItem.case_id.in_(cases))),
                   persons=_count(session, select(Person.id).where(remaining)),
                   outbox_messages=_count(session, _finished_outbox_messages(settings)))


def run(session: Session, settings: Settings, operator: str) -> Erasure:
    """Erases what is due, in batches of one transaction each, in every municipality; audited with counts."""
    with tenancy.maintenance("retention", session):
        return _run(session, settings, operator)


def _run(session: Session, settings: Settings, operator: str) -> Erasure:
    erased = Erasure()
    while ids := list(session.execute(_due_signals(settings).limit(BATCH)).scalars()):
        erased.signals += _erase_signals(session, ids)
        session.commit()
    while ids := list(session.execute(_due_cases(settings).limit(BATCH)).scalars()):
        _erase_cases(session, ids, erased)
        session.commit()
    while ids := list(session.execute(_orphans().limit(BATCH)).scalars()):
        erased.persons += session.execute(delete(Person).where(Person.id.in_(ids))).rowcount
        session.commit()
    while ids := list(session.execute(_finished_outbox_messages(settings).limit(BATCH)).scalars()):
        erased.outbox_messages += session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids))).rowcount
        session.commit()
    write_system_event(session, operator, "erase", "retention", "retention", asdict(erased))
    session.commit()
    return erased
