"""What the printable documents (HTML, Markdown) share: every value escaped, nothing but what the JSON
view holds, Dutch words for the registry's English values, times in Europe/Amsterdam with the zone
shown, and one stylesheet (STYLE) for screen and print.

STYLE is plain CSS with no external references: a generated document embeds it, a web page may serve
it as a file (`text/css`) under its own Content-Security-Policy. Print: the confidentiality marking and
"pagina X van Y" go in @page margin boxes (Chromium and Edge from 131, Safari from 18.2; browsers
without them print the marking only where the document itself carries it, at its top and end).
"""

from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from app.models.action import ActionStatus
from app.models.case import CaseStatus, RiskLevel
from app.models.meeting import AgendaKind, Decision, MeetingStatus
from app.models.organisation import OrganisationKind
from app.models.signal import Channel, SignalCategory, Urgency

LOCAL = ZoneInfo("Europe/Amsterdam")
CONFIDENTIAL = "Vertrouwelijk — alleen voor deelnemers aan dit casusoverleg"
DAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december")

LABELS: dict[type[StrEnum], dict[str, str]] = {
    MeetingStatus: {"planned": "gepland", "in_progress": "bezig", "closed": "gesloten"},
    AgendaKind: {"closure_proposal": "voorstel tot afsluiten", "new_signal": "nieuw signaal",
                 "overdue_actions": "verlopen afspraken", "review": "periodieke evaluatie",
                 "case_discussion": "casusbespreking"},
    Decision: {"continue_approach": "aanpak voortzetten", "start_referral": "doorverwijzen",
               "request_assessment": "duiding aanvragen", "close_case": "casus afsluiten",
               "no_change": "geen wijziging"},
    CaseStatus: {"intake": "aanmelding", "investigation": "onderzoek", "approach": "aanpak",
                 "monitoring": "nazorg", "closed": "afgesloten"},
    RiskLevel: {"low": "laag", "medium": "midden", "high": "hoog"},
    ActionStatus: {"open": "lopend", "done": "uitgevoerd", "cancelled": "vervallen"},
    SignalCategory: {"change_in_behaviour": "gedragsverandering", "extremist_expressions": "extremistische uitingen",
                     "social_isolation": "sociaal isolement", "travel_intent": "uitreisintentie",
                     "recruitment": "ronselen", "online_propaganda": "online propaganda",
                     "threat_of_violence": "dreiging met geweld", "family_concern": "zorgen in het gezin",
                     "other": "overig"},
    Urgency: {"normal": "normaal", "high": "hoog", "acute": "acuut"},
    Channel: {"in_person": "persoonlijk", "phone": "telefoon", "email": "e-mail", "online": "online",
              "registration_system": "registratiesysteem", "other": "overig"},
    OrganisationKind: {"municipality": "gemeente", "police": "politie", "public_prosecutor": "Openbaar Ministerie",
                       "care": "zorg", "youth_work": "jongerenwerk", "education": "onderwijs",
                       "probation": "reclassering", "expert_pool": "expertisepool",
                       "external_municipality": "andere gemeente"},
}


def label(value: StrEnum | str | None, kind: type[StrEnum] | None = None) -> str:
    """The Dutch word for a stored value; `kind` where the same value means different things (`high`)."""
    if value is None:
        return ""
    kind = kind or (type(value) if isinstance(value, StrEnum) else None)
    kinds = [kind] if kind in LABELS else list(LABELS)
    return next((LABELS[k][str(value)] for k in kinds if str(value) in LABELS[k]), str(value).replace("_", " "))


def local_time(moment: datetime | None, with_day: bool = True) -> str:
    """'maandag 12 januari 2026, 10:00 (CET)': Europe/Amsterdam, with the zone (CET or CEST)."""
    if moment is None:
        return ""
    at = moment.astimezone(LOCAL)
    day = f"{DAYS[at.weekday()]} " if with_day else ""
    return f"{day}{at.day} {MONTHS[at.month - 1]} {at.year}, {at:%H:%M} ({at.tzname()})"


def local_date(value: date | datetime | None) -> str:
    """'12 januari 2026'; a moment is taken in Europe/Amsterdam first."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(LOCAL).date()
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


_BASE = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#111}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #999;padding:.3rem .5rem;text-align:left}
th{background:#eee}.emergency{font-weight:bold}@media print{body{margin:0;max-width:none}}"""
_PRINT = """@page{size:A4;margin:20mm 16mm 18mm;
@bottom-right{content:"pagina " counter(page) " van " counter(pages);font:9pt system-ui,sans-serif;color:#333}}
@page casusoverleg{@top-center{content:"Vertrouwelijk \\2014  alleen voor deelnemers aan dit casusoverleg";
font:bold 9pt system-ui,sans-serif;color:#8b0000}}"""
_AGENDA = """.casusoverleg{page:casusoverleg}
.casusoverleg .marking{border:2px solid #8b0000;color:#8b0000;font-weight:bold;padding:.3rem .6rem;text-align:center}
.casusoverleg .meta{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:1rem 0}
.casusoverleg .meta dt,.casusoverleg .facts dt{font-weight:bold}.casusoverleg .meta dd{margin:0}
.casusoverleg .item{border-top:1px solid #999;padding-top:.4rem;margin-top:1rem}
.casusoverleg .facts{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem}
.casusoverleg .facts dd{margin:0}.casusoverleg .facts ul{margin:0;padding-left:1.2rem}
.casusoverleg .urgent-mark{border:1px solid #111;padding:0 .3rem;font-size:.85em;font-weight:bold}
.casusoverleg .placeholder{color:#444;font-style:italic}
.casusoverleg .lines span{display:block;height:1.9em;border-bottom:1px solid #888}
.casusoverleg .choices{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.2rem 1.5rem}
.casusoverleg h2{border-bottom:2px solid #111;margin-top:1.5rem}.casusoverleg h3{margin:.3rem 0}
.casusoverleg h4{margin:.6rem 0 .2rem;font-size:1rem}.casusoverleg .generated{color:#333;font-size:.9em}
@media print{.casusoverleg{font-size:10.5pt}.casusoverleg .item{break-inside:avoid-page}
.casusoverleg h2,.casusoverleg h3,.casusoverleg h4{break-after:avoid-page}}"""
STYLE = "\n".join((_BASE, _PRINT, _AGENDA))
