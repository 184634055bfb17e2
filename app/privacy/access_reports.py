"""Printable documents (HTML): every value escaped, nothing but what the JSON view holds."""

from html import escape

from app.models.audit import AccessReport

STYLE = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#111}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #999;padding:.3rem .5rem;text-align:left}
th{background:#eee}.emergency{font-weight:bold}@media print{body{margin:0}}"""


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
