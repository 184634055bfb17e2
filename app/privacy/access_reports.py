"""Access requests (inzageverzoek, AVG art. 15): which organisations processed a person's data, when,
how and why, answered from the audit log by the privacy officer of the person's municipality, as
JSON or as a printable document."""

import uuid
from html import escape
from zoneinfo import ZoneInfo

from app.audit.writer import Auditor
from app.auth.policies import audit_events, persons
from app.auth.principal import forbidden
from app.models.audit import (
    AccessReport,
    ActivitySummary,
    Operation,
    OrganisationSummary,
    Outcome,
    ProcessingRecord,
)
from app.models.base import utcnow
from app.privacy import register
from app.services.documents import STYLE

ACTIVITY = "access-report"


def access_report(auditor: Auditor, person_id: uuid.UUID) -> AccessReport:
    """For the privacy officer of the person's municipality (403 for other roles, 404 elsewhere)."""
    if not auditor.principal.municipal_privacy_officer:
        auditor.denied(Operation.read, "access_report", person_id, [], ACTIVITY)
        raise forbidden("Only the privacy officer reads the audit log.")
    person = persons.access_report_subject(auditor, person_id)
    rows = audit_events.processing_of(auditor.session, person.pseudonym)
    described = register.described(auditor.session.connection(), {(row[4], row[5]) for row in rows})
    processing = [_record(row, described) for row in rows]
    auditor.allowed(Operation.read, "access_report", person_id, [person.pseudonym], ACTIVITY,
                    {"records": len(processing)}, municipality_id=person.municipality_id)
    return AccessReport(pseudonym=person.pseudonym, name=person.name, date_of_birth=person.date_of_birth,
                        generated_at=utcnow(), activities=_by_activity(processing, rows, described),
                        organisations=_summarise(processing), processing=processing)


def _record(row, described: dict) -> ProcessingRecord:
    at, name, operation, resource_type, key, version, basis, outcome = row
    activity = described.get((key, version))
    return ProcessingRecord(occurred_at=at, organisation=name or "Casusregister (beheer)", operation=operation,
                            resource_type=resource_type, activity=register.registered_key(key),
                            purpose=activity.purpose if activity else key,
                            legal_basis=activity.legal_basis if activity else basis,
                            emergency=outcome == Outcome.emergency)


def _by_activity(processing: list[ProcessingRecord], rows, described: dict) -> list[ActivitySummary]:
    """Per processing activity, in the register's words as of its latest processing of the person."""
    latest: dict[str, tuple[ProcessingRecord, register.Version]] = {}
    for record, row in zip(processing, rows, strict=True):
        latest[record.activity] = (record, (row[4], row[5]))  # as the event names it
    summaries = []
    for key, (record, named) in sorted(latest.items()):
        activity = described.get(named)
        summaries.append(ActivitySummary(
            activity=key, version=activity.version if activity else None, name=activity.name if activity else key,
            purpose=record.purpose, legal_basis=record.legal_basis,
            legal_basis_articles=activity.legal_basis_articles if activity else [],
            retention=activity.retention if activity else None,
            organisations=_summarise([r for r in processing if r.activity == key])))
    return summaries


def _summarise(processing: list[ProcessingRecord]) -> list[OrganisationSummary]:
    summary: dict[str, OrganisationSummary] = {}
    for record in processing:
        entry = summary.get(record.organisation)
        if entry is None:
            summary[record.organisation] = OrganisationSummary(organisation=record.organisation, first=record.occurred_at,
                                                               last=record.occurred_at, count=1)
        else:
            entry.last, entry.count = record.occurred_at, entry.count + 1
    return sorted(summary.values(), key=lambda s: s.organisation)


def _rows(cells: list[list[str]]) -> str:
    return "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in cells)


AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# The person's own language: what was done, to which of their data.
OPERATIONS = {"read": "ingezien", "list": "getoond in een overzicht", "create": "vastgelegd", "update": "gewijzigd",
              "search": "opgezocht", "delete": "verwijderd", "disclose": "verstrekt aan een andere gemeente",
              "export": "geëxporteerd", "erase": "vernietigd"}
RESOURCES = {"signal": "melding", "case": "casus", "person": "persoonsgegevens", "information_item": "informatie",
             "agenda": "agenda casusoverleg", "agenda_item": "agendapunt casusoverleg",
             "agenda_addendum": "aanvulling op het verslag", "closure_proposal": "voorstel tot afsluiten",
             "action": "afspraak", "referral": "doorverwijzing", "emergency_access": "noodtoegang",
             "access_report": "inzageverzoek", "meeting": "casusoverleg"}


def _when(moment, with_time: bool = True) -> str:
    local = moment.astimezone(AMSTERDAM)
    return local.strftime("%d-%m-%Y %H:%M %Z") if with_time else local.strftime("%d-%m-%Y")


def _activity_section(activity: ActivitySummary) -> str:
    organisations = ", ".join(f"{o.organisation} ({o.count}×, {_when(o.first, False)} tot en met "
                              f"{_when(o.last, False)})" for o in activity.organisations)
    return f"""<section><h3>{escape(activity.name)}</h3><dl>
<dt>Doel</dt><dd>{escape(activity.purpose)}</dd>
<dt>Grondslag</dt><dd>{escape(activity.legal_basis or "")}</dd>
<dt>Bewaartermijn</dt><dd>{escape(activity.retention or "")}</dd>
<dt>Door</dt><dd>{escape(organisations)}</dd></dl></section>"""


def access_report_html(report: AccessReport) -> str:
    """The answer to an inzageverzoek, in Dutch, ready to print and send."""
    activities = "\n".join(_activity_section(a) for a in report.activities)
    processing = _rows([[_when(p.occurred_at), p.organisation, OPERATIONS.get(p.operation, p.operation),
                         RESOURCES.get(p.resource_type, p.resource_type),
                         next((a.name for a in report.activities if a.activity == p.activity), p.activity),
                         "noodtoegang" if p.emergency else ""]
                        for p in report.processing])
    return f"""<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>Inzageverzoek {escape(report.pseudonym)}</title>
<style>{STYLE}</style></head><body>
<h1>Antwoord op uw verzoek om inzage (artikel 15 AVG)</h1>
<p>Betrokkene: <strong>{escape(report.name)}</strong>, geboren {report.date_of_birth.strftime("%d-%m-%Y")}
(kenmerk {escape(report.pseudonym)}). Opgesteld op {_when(report.generated_at)}.</p>
<p>Hieronder staat waarvoor en op welke grond uw gegevens in het casusregister zijn verwerkt, door welke
organisaties en wanneer. Elke verwerking is vastgelegd in het logboek van het register.</p>
<h2>Waarvoor en op welke grond</h2>
{activities}
<h2>Alle verwerkingen</h2>
<table><thead><tr><th>Wanneer</th><th>Organisatie</th><th>Handeling</th><th>Gegevens</th><th>Verwerking</th>
<th></th></tr></thead><tbody>{processing}</tbody></table>
<h2>Uw rechten</h2>
<p>U kunt vragen onjuiste gegevens te verbeteren (artikel 16 AVG), bezwaar maken tegen de verwerking
(artikel 21 AVG) en een klacht indienen bij de functionaris gegevensbescherming van uw gemeente of bij de
Autoriteit Persoonsgegevens.</p>
</body></html>
"""
