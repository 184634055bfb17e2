"""The demo week's calendar and its people (app/demo_week.py records the week): when the case conference
meets, relative to the day the demo is seeded, and the fictional persons the signals are about."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TUESDAY = 1
MEETING_AT = time(10, 0)  # Europe/Amsterdam


@dataclass(frozen=True)
class Calendar:
    """The conference meets on Tuesdays at 10:00 in Utrecht. `previous`: the last Tuesday before today;
    `next`: the first after today (seeded on a Tuesday, the demo has no meeting that day). In UTC."""

    now: datetime
    today: date  # in Europe/Amsterdam
    previous: datetime
    next: datetime

    @classmethod
    def around(cls, now: datetime) -> "Calendar":
        today = now.astimezone(AMSTERDAM).date()
        ahead = (TUESDAY - today.weekday()) % 7 or 7
        next_day = today + timedelta(days=ahead)
        previous_day = next_day - timedelta(days=7 if ahead < 7 else 14)
        return cls(now, today, local(previous_day, MEETING_AT), local(next_day, MEETING_AT))

    @property
    def previous_day(self) -> date:
        return self.previous.astimezone(AMSTERDAM).date()

    @property
    def next_day(self) -> date:
        return self.next.astimezone(AMSTERDAM).date()

    def before(self, days: int, at: str) -> datetime:
        """`days` before the previous meeting's day, at local time `at` (HH:MM)."""
        return local(self.previous_day - timedelta(days=days), time.fromisoformat(at))

    def meeting(self, minutes: int) -> datetime:
        return self.previous + timedelta(minutes=minutes)

    def since_meeting(self, count: int) -> list[datetime]:
        """`count` moments in order, spread over the working hours from the afternoon of the previous
        meeting to yesterday (never today: they stay in the past whatever the time of seeding)."""
        slots, day = [], self.previous_day
        while day < self.today:
            first = 12 if day == self.previous_day else 9
            if day.weekday() < 5:
                slots += [local(day, time(hour)) for hour in range(first, 18)]
            day += timedelta(days=1)
        picked = [slots[round(i * (len(slots) - 1) / max(count - 1, 1))] for i in range(count)]
        return [moment + timedelta(minutes=7 * i) for i, moment in enumerate(picked)]

    def overdue_date(self) -> date:
        """The due date of the action that is overdue now: three days after the meeting, or yesterday
        (the server's, too), but not before the meeting."""
        yesterday = min(self.today, date.today()) - timedelta(days=1)
        return max(self.previous_day, min(self.previous_day + timedelta(days=3), yesterday))


def local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=AMSTERDAM).astimezone(UTC)


@dataclass(frozen=True)
class Subject:
    name: str
    date_of_birth: str
    bsn: str  # test numbers (999 99x xxx), valid by the elfproef
    district: str
    address: str | None = None

    def body(self, with_bsn: bool = True) -> dict[str, Any]:
        body = {"name": self.name, "date_of_birth": self.date_of_birth}
        return body | ({"bsn": self.bsn} if with_bsn else {}) | ({"address": self.address} if self.address else {})


DAAN = Subject("Daan Demo", "2007-04-12", "999990019", "Kanaleneiland", "Voorbeeldlaan 1, Utrecht")
FENNA = Subject("Fenna Fictief", "2008-09-03", "999990020", "Overvecht")
SAM = Subject("Sam Voorbeeld", "2004-01-27", "999990032", "Zuilen")
NOOR = Subject("Noor Proefmans", "2006-06-18", "999990044", "Lunetten", "Testpad 7, Utrecht")
JESSE = Subject("Jesse Testerink", "2005-11-09", "999990056", "Leidsche Rijn")
LOTTE = Subject("Lotte Nepstra", "2009-02-14", "999990068", "Hoograven")
MILAN = Subject("Milan Verzonnen", "2006-12-01", "999990081", "Overvecht")
YARA = Subject("Yara Demonstra", "2003-08-22", "999990093", "Binnenstad")
BRAM = Subject("Bram Oefening", "2005-05-05", "999990111", "Kanaleneiland", "Proefstraat 12, Utrecht")
ILSE = Subject("Ilse Imaginair", "2008-03-30", "999990123", "Vleuten")
SUBJECTS = (DAAN, FENNA, SAM, NOOR, JESSE, LOTTE, MILAN, YARA, BRAM, ILSE)
