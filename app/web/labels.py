"""What the pages say when something fails, in Dutch (the words for stored values: app.services.documents)."""

ERRORS = {
    400: "De invoer is niet geldig.",
    403: "Uw rol geeft geen toegang tot deze handeling.",
    404: "Deze pagina bestaat niet of is niet voor u beschikbaar.",
    409: "Dit kan niet (meer) in de huidige stand van zaken.",
    412: "Iemand anders heeft dit intussen gewijzigd. Laad de pagina opnieuw en probeer het nog eens.",
    429: "Te veel pogingen; probeer het later opnieuw.",
}


def error_text(status: int, detail: str) -> str:
    """Our own Dutch sentence; the API's English detail only where it says more (a 400 or 409's reason)."""
    general = ERRORS.get(status, "Er ging iets mis.")
    return f"{general} ({detail})" if detail and status in (400, 409) else general
