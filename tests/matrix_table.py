"""The text tables of the per-feature authorization tests (cases, meetings, referrals): one reader."""

from collections.abc import Iterator

OUTCOMES = {"a": "allowed", "d": "denied", "e": "emergency", "-": None}


def cells(matrix: str, endpoints) -> Iterator[tuple[list[str], str, int, str | None]]:
    """Every cell as (the row's leading fields, endpoint, status, audit outcome). A cell is a status
    followed by the outcome letter of the request's last audit event, e.g. `404d`."""
    lines = matrix.strip().splitlines()
    columns = lines[0].split("|")[1].split()
    assert columns == list(endpoints), "table columns and ENDPOINTS differ"
    for line in lines[1:]:
        left, right = line.split("|")
        for endpoint, cell in zip(columns, right.split(), strict=True):
            yield left.split(), endpoint, int(cell[:3]), OUTCOMES[cell[3]]
