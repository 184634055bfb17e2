"""The printable agenda, and the minutes of a closed meeting (HTML and Markdown): the same need-to-know
view as the JSON, in Dutch, with times in Europe/Amsterdam, every value escaped.

For web pages: `body(document, names, author)` is the document as an HTML fragment (no script, no
inline style: it needs `documents.STYLE` as a stylesheet); `names_for(session, document)` and
`author_of(session, principal)` give its other two arguments.
"""

import re
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from html import escape

from sqlmodel import Session, select

from app.auth.principal import Principal
from app.models import Organisation, User
from app.models.base import utcnow
from app.models.meeting import (
    URGENT_SIGNAL,
    Agenda,
    AgendaItemFull,
    AgendaItemRedacted,
    AgendaKind,
    AgendaSignal,
    Decision,
    MeetingStatus,
)
from app.services.documents import CONFIDENTIAL, STYLE, label, local_date, local_time

KIND_LABELS = {
    AgendaKind.closure_proposal: "Voorstellen tot afsluiten",
    AgendaKind.new_signal: "Nieuwe signalen",
    AgendaKind.overdue_actions: "Verlopen afspraken",
    AgendaKind.review: "Periodieke evaluaties",
    AgendaKind.case_discussion: "Overige casussen",
}
HIDDEN = "afgeschermd: uw organisatie neemt niet deel aan deze casus"
ZONE = "alle tijden in Nederlandse tijd (Europe/Amsterdam)"
Item = AgendaItemFull | AgendaItemRedacted
Names = Mapping[uuid.UUID, str]

# The reasons the agenda build writes (app/auth/policies/agendas.py), in Dutch; the chair's own text stays as typed.
_ISO_DATE = r"(\d{4})-(\d{2})-(\d{2})"
_REASONS = (
    (re.compile(rf"new signal triaged on {_ISO_DATE}"), "nieuw signaal, getrieerd op {}"),
    (re.compile(rf"review date {_ISO_DATE}"), "evaluatiedatum {}"),
    (re.compile(rf"action overdue since {_ISO_DATE}"), "afspraak verlopen sinds {}"),
)
_PROPOSED = "proposed for closure: "
_BY_CHAIR = "added by the chair"


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


def names_for(session: Session, document: Agenda) -> dict[uuid.UUID, str]:
    """The names a document prints: every organisation, the chair and the owners of its actions (users)."""
    users = {document.meeting.chair_id} | {a.owner_user_id for i in document.items if isinstance(i, AgendaItemFull)
                                           for a in [*i.open_actions, *i.agreed_actions] if a.owner_user_id}
    found = organisation_names(session)
    found.update(session.exec(select(User.id, User.display_name).where(User.id.in_(users))).all())
    return found


def author_of(session: Session, principal: Principal) -> str:
    """Who draws the document up: a user's display name, else the name in the token (a system's client id)."""
    if principal.kind == "user":
        display = session.exec(select(User.display_name).where(User.id == principal.id)).first()
        if display:
            return display
    return principal.name or "onbekend"


def reason(text: str) -> str:
    """The reason an item is on the agenda, in Dutch where the registry wrote it."""
    if text == _BY_CHAIR:
        return "toegevoegd door de voorzitter"
    parts = []
    for part in text.split("; "):
        if part.startswith(_PROPOSED):
            parts.append("voorgesteld om af te sluiten: " + part[len(_PROPOSED):])
            continue
        for pattern, dutch in _REASONS:
            if found := pattern.fullmatch(part):
                year, month, day = (int(g) for g in found.groups())
                part = dutch.format(local_date(datetime(year, month, day).date()))
                break
        parts.append(part)
    return "; ".join(parts)


def _title(document: Agenda) -> str:
    return "Notulen casusoverleg" if document.meeting.status == MeetingStatus.closed else "Agenda casusoverleg"


def _groups(document: Agenda) -> list[tuple[str, list[Item]]]:
    return [(text, [i for i in document.items if i.kind == kind]) for kind, text in KIND_LABELS.items()
            if any(i.kind == kind for i in document.items)]


def _meta(document: Agenda, names: Names) -> list[tuple[str, str]]:
    m = document.meeting
    attendees = ", ".join(sorted(names.get(o, "onbekende organisatie") for o in m.attending_organisation_ids))
    facts = [("Datum en tijd", f"{local_time(m.starts_at)}; {ZONE}"), ("Locatie", m.location or "niet opgegeven"),
             ("Voorzitter", names.get(m.chair_id, "onbekend")), ("Status", label(m.status, MeetingStatus))]
    if m.started_at:
        facts.append(("Geopend", local_time(m.started_at)))
    if m.closed_at:
        facts.append(("Gesloten", local_time(m.closed_at)))
    return facts + [("Aanwezige organisaties", attendees or "geen")]


def _generated(author: str, at: datetime | None) -> str:
    return f"Opgesteld op {local_time(at or utcnow())} door {author}"


def _urgent(item: AgendaItemFull) -> str:
    """Why an item is urgent, as far as the viewer may know: a partner sees no signal's urgency."""
    signals = [f"signaal met urgentie {label(s.urgency)}" for s in item.signals or []
               if s.new and s.urgency in URGENT_SIGNAL]
    why = (["gemarkeerd door de voorzitter"] if item.marked_urgent else []) + signals[:1]
    return "ja" + (f" ({', '.join(why)})" if why else "")


def _signal(s: AgendaSignal) -> str:
    text = (f"{', '.join(label(c) for c in s.categories)}; urgentie {label(s.urgency)}; "
            f"wijk {s.district or 'niet opgegeven'}; gemeld door: {label(s.reporter_organisation_kind)}")
    return text + (f"; getrieerd op {local_date(s.triaged_at)}" if s.triaged_at else "") + (
        " (nieuw)" if s.new else "")


def _owner(names: Names, organisation_id: uuid.UUID, user_id: uuid.UUID | None) -> str:
    owner = names.get(organisation_id, "onbekende organisatie")
    return f"{owner} ({names[user_id]})" if user_id in names else owner


def _open_actions(item: AgendaItemFull, names: Names) -> list[str]:
    return [f"{a.description} — {_owner(names, a.owner_organisation_id, a.owner_user_id)}, uiterlijk "
            f"{local_date(a.due_date)}{' — VERLOPEN' if a.overdue else ''}" for a in item.open_actions]


def _agreed_actions(item: AgendaItemFull, names: Names) -> list[str]:
    return [f"{a.description} — {_owner(names, a.owner_organisation_id, a.owner_user_id)}, uiterlijk "
            f"{local_date(a.due_date)} — {label(a.status)}" + (f": {a.result_note}" if a.result_note else "")
            for a in item.agreed_actions]


def _facts(item: AgendaItemFull) -> list[tuple[str, str | list[str]]]:
    """What the chair needs to know of an item before it is discussed."""
    person = item.person
    facts: list[tuple[str, str | list[str]]] = [
        ("Betrokkene", f"{person.name}, geboren {local_date(person.date_of_birth)}"),
        ("Wijk", person.district or "niet opgegeven"), ("Status casus", label(item.case_status)),
        ("Waarom op de agenda", reason(item.reason))]
    if item.urgent:
        facts.append(("Urgent", _urgent(item)))
    if item.signals is not None:
        facts.append(("Signalen", [_signal(s) for s in item.signals] or ["geen"]))
    if item.last_decision:
        facts.append(("Vorig besluit", f"{label(item.last_decision.decision)} (casusoverleg van "
                                       f"{local_date(item.last_decision.meeting_starts_at)})"))
    return facts


def _outcome(item: AgendaItemFull, names: Names, closed: bool) -> list[tuple[str, str | list[str]]]:
    """What the meeting recorded: the minutes (final once closed), decision, actions agreed, addenda."""
    found: list[tuple[str, str | list[str]]] = []
    if closed or item.minutes:
        found.append(("Verslag", item.minutes or "geen verslag vastgelegd"))
    if closed or item.decision:
        found.append(("Besluit", label(item.decision) if item.decision else "geen besluit vastgelegd"))
    if item.closure_reason:
        found.append(("Reden van afsluiten", item.closure_reason))
    if closed or item.agreed_actions:
        found.append(("Gemaakte afspraken", _agreed_actions(item, names) or ["geen"]))
    if item.addenda:
        found.append(("Addenda", [f"{a.text} ({a.author_name}, {local_time(a.created_at, with_day=False)})"
                                  for a in item.addenda]))
    return found


def _item_title(item: Item) -> str:
    return f"{item.position}. {item.case_number}"


# HTML


def _html_value(value: str | list[str]) -> str:
    if isinstance(value, list):
        return "<ul>" + "".join(f"<li>{escape(v)}</li>" for v in value) + "</ul>"
    return escape(value).replace("\n", "<br>")


def _html_pairs(pairs: list[tuple[str, str | list[str]]], css: str) -> str:
    return f'<dl class="{css}">' + "".join(f"<dt>{escape(k)}</dt><dd>{_html_value(v)}</dd>" for k, v in pairs) + "</dl>"


def _lines(count: int) -> str:
    return '<div class="lines" aria-hidden="true">' + "<span></span>" * count + "</div>"


def _html_room(item: AgendaItemFull) -> str:
    """Room to write in, on paper, while the meeting is not closed."""
    room = "<h4>Ruimte voor verslag</h4>" + _lines(5)
    if not item.decision:
        room += "<h4>Besluit</h4><ul class=\"choices\">" + "".join(
            f"<li>&#9744; {escape(label(d))}</li>" for d in Decision) + "</ul>"
    return room + "<h4>Afspraken (wat, wie, uiterlijk wanneer)</h4>" + _lines(3)


def _html_item(item: Item, names: Names, closed: bool) -> str:
    title = escape(_item_title(item))
    if isinstance(item, AgendaItemRedacted):
        return f'<section class="item"><h3>{title}</h3><p class="placeholder">{escape(HIDDEN)}</p></section>'
    if item.urgent:
        title += ' <span class="urgent-mark">URGENT</span>'
    facts = _html_pairs(_facts(item), "facts")
    opened = "<h4>Openstaande afspraken</h4>" + _html_value(_open_actions(item, names) or ["geen"])
    outcome = "".join(f"<h4>{escape(k)}</h4>" + (_html_value(v) if isinstance(v, list) else f"<p>{_html_value(v)}</p>")
                      for k, v in _outcome(item, names, closed))
    return (f'<section class="item"><h3>{title}</h3>{facts}{opened}{outcome}'
            f"{'' if closed else _html_room(item)}</section>")


def body(document: Agenda, names: Names, author: str, at: datetime | None = None) -> str:
    """The document as an HTML fragment: <article class="casusoverleg">…</article>, for a page that
    links documents.STYLE as its stylesheet. `names`: organisation and user display names by id
    (see names_for()); `author`: who draws it up (see author_of()); `at`: when (now)."""
    closed = document.meeting.status == MeetingStatus.closed
    groups = "".join(f"<h2>{escape(text)}</h2>" + "".join(_html_item(i, names, closed) for i in items)
                     for text, items in _groups(document)) or "<p>De agenda is leeg.</p>"
    marking = f'<p class="marking">{escape(CONFIDENTIAL)}</p>'
    return (f'<article class="casusoverleg">{marking}<h1>{escape(_title(document))}</h1>'
            f'{_html_pairs(_meta(document, names), "meta")}<p class="generated">{escape(_generated(author, at))}</p>'
            f"{groups}{marking}</article>")


def html(document: Agenda, names: Names, author: str, at: datetime | None = None) -> str:
    """The whole document, its style embedded: to save or print (no script, nothing from elsewhere)."""
    title = f"{_title(document)} {local_time(document.meeting.starts_at, with_day=False)}"
    return f"""<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>{escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{STYLE}</style></head><body>
{body(document, names, author, at)}
</body></html>
"""


# Markdown


def _md(text: str) -> str:
    """On one line, after a list marker, so only inline markup needs escaping (emphasis, code, links, HTML)."""
    return re.sub(r"([\\`*_\[\]<>|~])", r"\\\1", " ".join(str(text).split()))


def _md_pairs(pairs: list[tuple[str, str | list[str]]], cell: Callable[[str], str] = _md) -> list[str]:
    lines = []
    for key, value in pairs:
        if isinstance(value, list):
            lines += [f"- **{key}:**"] + [f"  - {cell(v)}" for v in value]
        else:
            lines.append(f"- **{key}:** {cell(value)}")
    return lines


def _md_item(item: Item, names: Names, closed: bool) -> list[str]:
    title = f"### {_md(_item_title(item))}"
    if isinstance(item, AgendaItemRedacted):
        return [title, "", f"*{_md(HIDDEN)}*", ""]
    lines = [title + (" — URGENT" if item.urgent else ""), ""] + _md_pairs(_facts(item))
    lines += _md_pairs([("Openstaande afspraken", _open_actions(item, names) or ["geen"])])
    lines += _md_pairs(_outcome(item, names, closed))
    if not closed:
        lines.append("- **Ruimte voor verslag:** " + "…" * 40)
        if not item.decision:
            lines.append("- **Besluit:** " + " ".join(f"☐ {label(d)}" for d in Decision))
        lines.append("- **Afspraken (wat, wie, uiterlijk wanneer):** " + "…" * 30)
    return lines + [""]


def markdown(document: Agenda, names: Names, author: str, at: datetime | None = None) -> str:
    closed = document.meeting.status == MeetingStatus.closed
    lines = [f"# {_title(document)}", "", f"**{_md(CONFIDENTIAL)}**", ""] + _md_pairs(_meta(document, names))
    lines += ["", f"*{_md(_generated(author, at))}*", ""]
    for text, items in _groups(document):
        lines += [f"## {_md(text)}", ""]
        for item in items:
            lines += _md_item(item, names, closed)
    if not document.items:
        lines += ["De agenda is leeg.", ""]
    return "\n".join(lines + [f"**{_md(CONFIDENTIAL)}**"]) + "\n"
