"""Dutch words for what the registry stores in English: statuses, decisions, kinds, errors."""

LABELS = {
    # meetings
    "planned": "gepland", "in_progress": "bezig", "closed": "gesloten",
    # decisions
    "continue_approach": "aanpak voortzetten", "start_referral": "doorverwijzen",
    "request_assessment": "duiding aanvragen", "close_case": "casus afsluiten", "no_change": "geen wijziging",
    # agenda kinds
    "closure_proposal": "voorstel tot afsluiten", "new_signal": "nieuw signaal",
    "overdue_actions": "verlopen afspraken", "review": "periodieke evaluatie", "case_discussion": "casusbespreking",
    # actions
    "open": "open", "done": "afgerond", "cancelled": "vervallen",
}
ERRORS = {
    400: "De invoer is niet geldig.",
    403: "Uw rol geeft geen toegang tot deze handeling.",
    404: "Deze pagina bestaat niet of is niet voor u beschikbaar.",
    409: "Dit kan niet (meer) in de huidige stand van zaken.",
    412: "Iemand anders heeft dit intussen gewijzigd. Laad de pagina opnieuw en probeer het nog eens.",
    429: "Te veel pogingen; probeer het later opnieuw.",
}


def label(value) -> str:
    return LABELS.get(str(value), str(value).replace("_", " "))


def error_text(status: int, detail: str) -> str:
    """Our own Dutch sentence; the API's English detail only where it says more (a 400 or 409's reason)."""
    general = ERRORS.get(status, "Er ging iets mis.")
    return f"{general} ({detail})" if detail and status in (400, 409) else general
