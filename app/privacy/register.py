"""The register of processing activities (AVG art. 30) as data: the default shipped with the registry
(processing_activities.json, in Dutch), a municipality's own additions and changes (`casusregister
processing-activities load`), each change a new version; and the current version of each activity, for
the audit writer. Old versions stay: an audit event names the version it was written under."""

import json
import time
import weakref
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, Engine, func, insert, select

from app.models.base import utcnow
from app.models.processing import KEY_PATTERN, URI_PREFIX, ProcessingActivity

DEFAULT = Path(__file__).with_name("processing_activities.json")
# Activities the registry named before the register existed, and the register's activity each was part
# of: their events keep the old name (sealed leaves must not change) and no version.
LEGACY = {"signal-follow-up": "signal-triage", "referral": "referral-partner",
          "referral-disclosure": "referral-municipality"}


def registered_key(key: str) -> str:
    return LEGACY.get(key, key)


def known_as(key: str) -> list[str]:
    """The key and the names its events may carry from before the register."""
    return [key, *(old for old, new in LEGACY.items() if new == key)]
TABLE = ProcessingActivity.__table__
DESCRIBED = ("name", "purpose", "legal_basis", "legal_basis_articles", "data_subject_categories",
             "personal_data_categories", "recipients", "retention", "log_confidentiality")
CACHE_SECONDS = 60.0
# Per engine: when the current versions were read, and what they were.
_current: "weakref.WeakKeyDictionary[Engine, tuple[float, dict[str, Current]]]" = weakref.WeakKeyDictionary()


class ActivityText(BaseModel):
    """One activity as a register file describes it."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    purpose: str = Field(min_length=1, max_length=1000)
    legal_basis: str = Field(min_length=1, max_length=200)  # every audit event of the activity carries it
    legal_basis_articles: list[str] = Field(min_length=1, max_length=20)
    data_subject_categories: list[str] = Field(max_length=50)
    personal_data_categories: list[str] = Field(max_length=50)
    recipients: list[str] = Field(max_length=50)
    retention: str = Field(min_length=1, max_length=500)
    log_confidentiality: str = Field(pattern="^(vertrouwelijk|intern)$")


class RegisterFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    activities: list[ActivityText] = Field(min_length=1)


def read(path: Path = DEFAULT) -> list[ActivityText]:
    """A register file, validated (a ValueError names what is wrong)."""
    activities = RegisterFile.model_validate(json.loads(path.read_text(encoding="utf-8"))).activities
    keys = [a.key for a in activities]
    if len(set(keys)) != len(keys):
        raise ValueError("a register file names each activity once")
    return activities


def latest(connection: Connection) -> list[ProcessingActivity]:
    """The current version of every activity, by key."""
    return [ProcessingActivity.model_validate(row) for _, row in sorted(_latest(connection).items())]


def _latest(connection: Connection) -> dict[str, dict]:
    newest = select(TABLE.c.key, func.max(TABLE.c.version).label("version")).group_by(TABLE.c.key).subquery()
    rows = connection.execute(select(TABLE).join(newest, (TABLE.c.key == newest.c.key)
                                                 & (TABLE.c.version == newest.c.version))).mappings()
    return {row["key"]: dict(row) for row in rows}


def sync(connection: Connection, activities: list[ActivityText], only_new: bool = False) -> list[str]:
    """Registers each activity whose description differs from its latest version as a new version
    (`only_new`: only activities the register does not hold yet, so that `migrate` keeps what the
    municipality changed); returns `key vN` of each version added. Activities not named stay as they are."""
    latest, added = _latest(connection), []
    for activity in activities:
        text = activity.model_dump(exclude={"key"})
        current = latest.get(activity.key)
        if current is not None and (only_new or all(current[field] == text[field] for field in DESCRIBED)):
            continue
        version = 1 if current is None else current["version"] + 1
        connection.execute(insert(TABLE).values(key=activity.key, version=version, uri=URI_PREFIX + activity.key,
                                                registered_at=utcnow(), **text))
        added.append(f"{activity.key} v{version}")
    _current.pop(connection.engine, None)
    return added


Version = tuple[str, int | None]


def described(connection: Connection, versions: set[Version]) -> dict[Version, ProcessingActivity]:
    """The register's description of each (key, version); an event written before the register (no
    version) is described by the activity's current version, if the register holds its key."""
    keys = {registered_key(key) for key, _ in versions}
    rows = connection.execute(select(TABLE).where(TABLE.c.key.in_(keys))).mappings().all()
    by_version = {(row["key"], row["version"]): ProcessingActivity.model_validate(dict(row)) for row in rows}
    newest = {key: by_version[(key, row["version"])] for key, row in _latest(connection).items() if key in keys}
    found = {(key, version): by_version.get((key, version)) or newest.get(registered_key(key))
             for key, version in versions}
    return {pair: activity for pair, activity in found.items() if activity is not None}


class Current(NamedTuple):
    version: int
    uri: str
    legal_basis: str


def current(connection: Connection) -> dict[str, Current]:
    """The current version of every activity, cached per engine for CACHE_SECONDS: a version another
    process registers is named by this one's events within that time (a sync here: at once)."""
    engine, now = connection.engine, time.monotonic()
    loaded_at, versions = _current.get(engine, (None, None))
    if versions is None or now - loaded_at > CACHE_SECONDS:
        versions = {key: Current(row["version"], row["uri"], row["legal_basis"])
                    for key, row in _latest(connection).items()}
        _current[engine] = (now, versions)
    return versions


def forget() -> None:
    """Reads the register afresh at the next event, in every engine of this process."""
    _current.clear()


def activity(connection: Connection, key: str) -> Current:
    if key not in current(connection):
        _current.pop(connection.engine, None)  # registered since, by another process?
    found = current(connection).get(key)
    if found is None:
        raise LookupError(f"processing activity {key!r} is not in the register")
    return found
