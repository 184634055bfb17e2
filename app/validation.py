"""Validators shared by request schemas."""

import unicodedata
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

# A little slack for clocks of reporting systems that run slightly ahead.
CLOCK_SKEW = timedelta(minutes=5)


def is_valid_bsn(value: str) -> bool:
    """The elfproef for a Dutch citizen service number (BSN)."""
    if len(value) != 9 or not value.isascii() or not value.isdigit():
        return False
    digits = [int(c) for c in value]
    total = sum(d * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - digits[8]
    return total % 11 == 0 and value != "000000000"


def check_bsn(value: str) -> str:
    if not is_valid_bsn(value):
        raise ValueError("not a valid BSN: nine digits that pass the elfproef")
    return value


# Nine digits in the document; the elfproef itself is beyond JSON Schema.
Bsn = Annotated[str, AfterValidator(check_bsn), Field(json_schema_extra={"pattern": "^[0-9]{9}$"})]


def _iso_text(value: Any) -> Any:
    # Pydantic would read a number as a Unix timestamp; the API's dates are ISO 8601 text only.
    if isinstance(value, int | float):
        raise ValueError("must be a date in ISO 8601 text, not a number")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_text)]
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_text)]


def check_not_future(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must include a timezone offset")
    if value > datetime.now(UTC) + CLOCK_SKEW:
        raise ValueError("must not be in the future")
    return value.astimezone(UTC)


def check_date_of_birth(value: date) -> date:
    if value > date.today():
        raise ValueError("must not be in the future")
    if value < date(1900, 1, 1):
        raise ValueError("must not be before 1900-01-01")
    return value


def _not_future_date(value: date) -> date:
    if value > date.today():
        raise ValueError("must not be in the future")
    return value


check_not_future_date = AfterValidator(_not_future_date)


_ALLOWED_CONTROLS = {"\n", "\r", "\t"}
# The same rule for the OpenAPI document: Unicode category Cc is U+0000-U+001F and U+007F-U+009F.
NO_CONTROLS_PATTERN = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
# Query and header values: one line, no control characters (PostgreSQL refuses NUL in text).
SINGLE_LINE_PATTERN = r"^[^\u0000-\u001F\u007F-\u009F]*$"


def _printable(value: str) -> str:
    if any(unicodedata.category(c) == "Cc" and c not in _ALLOWED_CONTROLS for c in value):
        raise ValueError("must not contain control characters")
    return value


def Text(max_length: int, min_length: int = 1) -> Any:  # noqa: N802 (reads as a type in annotations)
    """Trimmed text within bounds, without control characters (NUL and the like) other than line breaks."""
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
                     AfterValidator(_printable), Field(json_schema_extra={"pattern": NO_CONTROLS_PATTERN})]
