"""What every permitted answer must hold, beyond its status: the audit event names exactly the persons
the answer shows, and no BSN or address reaches a caller not entitled to the person's full view."""

from sqlmodel import select

from app.models import (
    Action,
    AgendaItem,
    AuditEvent,
    AuditEventPerson,
    Case,
    EmergencyAccess,
    InformationItem,
    ProcessingActivity,
    Referral,
    Signal,
)
from tests.authz_world import Identity, World
from tests.db import inspect_db

# Who sees a person's full view (BSN, address): the coordinator of the person's municipality, and a
# chair, inside their window, of the cases on their agendas (the copies of M, the K put there by the
# requests under test; Arnhem's chair: A). Everyone else never: partners, experts, the late chair,
# privacy officers, administrators, API clients and reporters.
FULL_VIEW = {
    "coord": lambda person: person.municipality == "UTR",
    "acoord": lambda person: person.municipality == "ARN",
    "chair": lambda person: person.origin in ("M", "K"),
    "achair": lambda person: person.origin == "A",
}


def changed_tables(before: dict[str, list[str]], after: dict[str, list[str]]) -> set[str]:
    return {table for table in before if before[table] != after[table]}


def audited(app, trace_id: str) -> tuple[set[str], set[str]]:
    """The outcomes of the request's audit events, and the pseudonyms they name."""
    with inspect_db(app) as session:
        events = session.exec(select(AuditEvent.seq, AuditEvent.outcome).where(AuditEvent.trace_id == trace_id)).all()
        seqs = [seq for seq, _ in events]
        names = session.exec(select(AuditEventPerson.pseudonym).where(AuditEventPerson.event_seq.in_(seqs))).all()
    return {outcome for _, outcome in events}, set(names)


def unregistered(app, trace_id: str) -> list[tuple[str, int | None]]:
    """The request's events that name no version of a processing activity the register holds."""
    with inspect_db(app) as session:
        registered = set(session.exec(select(ProcessingActivity.key, ProcessingActivity.version)).all())
        named = session.exec(select(AuditEvent.processing_activity, AuditEvent.processing_activity_version)
                             .where(AuditEvent.trace_id == trace_id)).all()
    return [tuple(n) for n in named if tuple(n) not in registered]


def shown(people: dict[str, Identity], response) -> set[str]:
    """The pseudonyms of the persons an answer shows: by id, pseudonym or name."""
    body = response.text
    return {p.pseudonym for p in people.values() if p.id in body or p.pseudonym in body or p.name in body}


def named(app, people: dict[str, Identity], response) -> set[str]:
    """The pseudonyms of the persons whose records the request names, in its path or its answer: a case
    (by id or number), signal, referral, action, agenda item, information item or emergency access.
    An answer about such a record concerns its person even where it shows nothing of them (a case's
    members, an action, the reporter's view of a signal)."""
    where = str(response.request.url) + response.text
    with inspect_db(app, owner=True) as session:
        persons = {str(case): str(person) for case, person in session.exec(select(Case.id, Case.person_id))}
        records = [(str(i), str(p)) for i, p in session.exec(select(Signal.id, Signal.person_id))]
        records += [(str(i), str(p)) for i, p in session.exec(select(Referral.id, Referral.person_id))]
        records += [(number, persons[str(case)]) for case, number in session.exec(select(Case.id, Case.number))]
        records += [(case, person) for case, person in persons.items()]
        for model, id_column in ((Action, Action.id), (AgendaItem, AgendaItem.id),
                                 (InformationItem, InformationItem.item_id), (EmergencyAccess, EmergencyAccess.id)):
            records += [(str(i), persons[str(c)]) for i, c in session.exec(select(id_column, model.case_id))]
    return {people[person].pseudonym for key, person in records if key in where}


def leaks(world: World, people: dict[str, Identity], caller: str, response) -> list[str]:
    """Each BSN or address of a person the caller may not see in full that the answer carries."""
    entitled = FULL_VIEW.get(caller, lambda person: False)
    answer = response.text + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    return [f"{p.origin}: {value}" for p in people.values() if not entitled(p)
            for value in (p.bsn, p.address) if value and value in answer]
