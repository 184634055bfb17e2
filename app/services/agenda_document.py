"""The printable agenda (HTML and Markdown): the same need-to-know view as the JSON, every value escaped."""

import re
import uuid
from collections.abc import Callable
from html import escape

from sqlmodel import Session, select

from app.models import Organisation
from app.models.meeting import Agenda, AgendaItemFull, AgendaItemRedacted, AgendaKind
from app.services.documents import STYLE

KIND_LABELS = {
    AgendaKind.closure_proposal: "Voorstellen tot afsluiten",
    AgendaKind.new_signal: "Nieuwe signalen",
    AgendaKind.overdue_actions: "Verlopen afspraken",
    AgendaKind.review: "Periodieke evaluaties",
    AgendaKind.case_discussion: "Overige casussen",
}
HIDDEN = "afgeschermd: uw organisatie neemt niet deel aan deze casus"
Item = AgendaItemFull | AgendaItemRedacted


def preferred(accept: str) -> str | None:
    """'html' or 'markdown' when the client asks for a document rather than JSON."""
    for part in accept.lower().split(","):
        media = part.split(";")[0].strip()
        if media in ("application/json", "application/problem+json", "*/*"):
            return None
        if media == "text/html":
            return "html"
        if media == "text/markdown":
            return "markdown"
    return None


def organisation_names(session: Session) -> dict[uuid.UUID, str]:
    return {o.id: o.name for o in session.exec(select(Organisation)).all()}


def _groups(agenda: Agenda) -> list[tuple[str, list[Item]]]:
    return [(label, [i for i in agenda.items if i.kind == kind]) for kind, label in KIND_LABELS.items()
            if any(i.kind == kind for i in agenda.items)]


def _actions(item: AgendaItemFull, names: dict, cell: Callable[[str], str]) -> list[str]:
    return [cell(f"{a.description} ({names.get(a.owner_organisation_id, '?')}, uiterlijk {a.due_date.isoformat()}"
                 f"{', VERLOPEN' if a.overdue else ''})") for a in item.open_actions]


def _facts(item: AgendaItemFull) -> list[tuple[str, str]]:
    facts = [("Betrokkene", f"{item.person.name}, geboren {item.person.date_of_birth.isoformat()}"),
             ("Status casus", item.case_status), ("Reden", item.reason)]
    if item.last_decision:
        facts.append(("Vorig besluit", f"{item.last_decision.decision} "
                                       f"({item.last_decision.meeting_starts_at:%Y-%m-%d})"))
    if item.decision:
        facts.append(("Besluit", item.decision))
    if item.minutes:
        facts.append(("Verslag", item.minutes))
    facts += [("Addendum", f"{a.text} ({a.author_name}, {a.created_at:%Y-%m-%d})") for a in item.addenda]
    return facts


def _header(agenda: Agenda, names: dict) -> tuple[str, str, str]:
    m = agenda.meeting
    attendees = ", ".join(sorted(names.get(o, "?") for o in m.attending_organisation_ids)) or "geen"
    return f"{m.starts_at:%Y-%m-%d %H:%M} UTC", m.location or "", attendees


def _html_item(item: Item, names: dict) -> str:
    title = f"{item.position}. {item.case_number}" + (" (urgent)" if getattr(item, "urgent", False) else "")
    if isinstance(item, AgendaItemRedacted):
        return f'<section class="redacted"><h3>{escape(title)}</h3><p><em>{escape(HIDDEN)}</em></p></section>'
    facts = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in _facts(item))
    actions = "".join(f"<li>{a}</li>" for a in _actions(item, names, escape)) or "<li>geen</li>"
    return (f'<section class="item"><h3>{escape(title)}</h3><dl>{facts}</dl>'
            f"<h4>Openstaande afspraken</h4><ul>{actions}</ul></section>")


def html(agenda: Agenda, names: dict[uuid.UUID, str]) -> str:
    when, where, attendees = _header(agenda, names)
    groups = "".join(f"<h2>{escape(label)}</h2>" + "".join(_html_item(i, names) for i in items)
                     for label, items in _groups(agenda)) or "<p>De agenda is leeg.</p>"
    return f"""<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>Agenda casusoverleg {escape(when)}</title>
<style>{STYLE}dt{{font-weight:bold}}.redacted{{color:#555}}</style></head><body>
<h1>Agenda casusoverleg</h1>
<p>Datum: <strong>{escape(when)}</strong>. Locatie: {escape(where)}. Status: {escape(agenda.meeting.status)}.</p>
<p>Aanwezige organisaties: {escape(attendees)}</p>
{groups}
</body></html>
"""


def _md(text: str) -> str:
    """On one line, after a list marker, so only inline markup needs escaping (emphasis, code, links, HTML)."""
    return re.sub(r"([\\`*_\[\]<>|~])", r"\\\1", " ".join(str(text).split()))


def _md_item(item: Item, names: dict) -> list[str]:
    title = f"### {item.position}. {_md(item.case_number)}" + (" (urgent)" if getattr(item, "urgent", False) else "")
    if isinstance(item, AgendaItemRedacted):
        return [title, "", f"*{_md(HIDDEN)}*", ""]
    lines = [title, ""] + [f"- **{k}:** {_md(v)}" for k, v in _facts(item)]
    actions = _actions(item, names, _md) or ["geen"]
    return lines + ["- **Openstaande afspraken:**"] + [f"  - {a}" for a in actions] + [""]


def markdown(agenda: Agenda, names: dict[uuid.UUID, str]) -> str:
    when, where, attendees = _header(agenda, names)
    lines = ["# Agenda casusoverleg", "", f"- **Datum:** {_md(when)}", f"- **Locatie:** {_md(where)}",
             f"- **Status:** {_md(agenda.meeting.status)}", f"- **Aanwezige organisaties:** {_md(attendees)}", ""]
    for label, items in _groups(agenda):
        lines += [f"## {_md(label)}", ""]
        for item in items:
            lines += _md_item(item, names)
    return "\n".join(lines) + "\n"
