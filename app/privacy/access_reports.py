"""Access requests (inzageverzoek, AVG art. 15): which organisations processed a person's data, when,
how and why, answered from the audit log by the privacy officer of the person's municipality, as
JSON or as a printable document."""

import uuid
from html import escape

from app.audit.writer import Auditor
from app.auth.policies import audit_events, persons
from app.auth.principal import forbidden
from app.models.audit import AccessReport, Operation, OrganisationSummary, Outcome, ProcessingRecord
from app.models.base import utcnow
from app.services.documents import STYLE

ACTIVITY = "access-report"


def access_report(auditor: Auditor, person_id: uuid.UUID) -> AccessReport:
    """For the privacy officer of the person's municipality (403 for other roles, 404 elsewhere)."""
    if not auditor.principal.municipal_privacy_officer:
        auditor.denied(Operation.read, "access_report", person_id, [], ACTIVITY)
        raise forbidden("Only the privacy officer reads the audit log.")
    person = persons.access_report_subject(auditor, person_id)
    processing = [ProcessingRecord(occurred_at=at, organisation=name or "Casusregister (beheer)", operation=operation,
                                   resource_type=resource_type, purpose=activity, legal_basis=basis,
                                   emergency=outcome == Outcome.emergency)
                  for at, name, operation, resource_type, activity, basis, outcome
                  in audit_events.processing_of(auditor.session, person.pseudonym)]
    auditor.allowed(Operation.read, "access_report", person_id, [person.pseudonym], ACTIVITY,
                    {"records": len(processing)}, municipality_id=person.municipality_id)
    return AccessReport(pseudonym=person.pseudonym, name=person.name, date_of_birth=person.date_of_birth,
                        generated_at=utcnow(), organisations=_summarise(processing), processing=processing)


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


def access_report_html(report: AccessReport) -> str:
    organisations = _rows([[o.organisation, o.first.strftime("%Y-%m-%d"), o.last.strftime("%Y-%m-%d"), str(o.count)]
                           for o in report.organisations])
    processing = _rows([[p.occurred_at.strftime("%Y-%m-%d %H:%M UTC"), p.organisation, p.operation, p.resource_type,
                         p.purpose, p.legal_basis or "", "noodtoegang" if p.emergency else ""]
                        for p in report.processing])
    return f"""<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>Inzageverzoek {escape(report.pseudonym)}</title>
<style>{STYLE}</style></head><body>
<h1>Overzicht verwerkingen persoonsgegevens (AVG art. 15)</h1>
<p>Betrokkene: <strong>{escape(report.name)}</strong>, geboren {report.date_of_birth.isoformat()}
(kenmerk {escape(report.pseudonym)}). Opgesteld op {report.generated_at.strftime("%Y-%m-%d %H:%M UTC")}.</p>
<h2>Organisaties die uw gegevens verwerkten</h2>
<table><thead><tr><th>Organisatie</th><th>Eerste keer</th><th>Laatste keer</th><th>Aantal</th></tr></thead>
<tbody>{organisations}</tbody></table>
<h2>Verwerkingen</h2>
<table><thead><tr><th>Wanneer</th><th>Organisatie</th><th>Handeling</th><th>Gegevens</th><th>Doel</th>
<th>Grondslag</th><th></th></tr></thead><tbody>{processing}</tbody></table>
</body></html>
"""
