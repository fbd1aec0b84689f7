"""The pilot counties' decision flows read literally from their public code, for the sample test.

An independent reading, kept small and obvious: one DOJ line at a time, as the county tools
read the bulk file (codeforamerica/gogen_pilots: data/doj_row.go, data/subject.go,
data/eligibility_info.go, data/helpers.go, matchers/code_section_matchers.go, the
`*_eligibility_flow.go` files, and for San Francisco processor/eligiblity_info.go with
data/doj_history.go of that time). Nothing here imports the engine: the test compares the two.

Each flow returns, per decided count `(subject_id, CNT_ORDER)`, the tool's own words:
`(determination, reason)`, e.g. `("Eligible for Dismissal", "Misdemeanor or Infraction")`.
San Francisco's tool said `eligible` / `ineligible` / `needs review`; its reason here names the
check that decided (see `sf_flow`).

`sentence_end` lets the test swap in the engine's reading of a sentence (a documented
deviation of every preset); without it the tools' own arithmetic is used: a year of 366 days
and a month of 30.5 days, the parts of one count added up.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

Key = tuple[str, str]
Verdict = tuple[str, str]

EPOCH = datetime(1, 1, 1)  # Go's zero time.Time
NOV_9_2016 = datetime(2016, 11, 9)
#: The longest time.Duration: Go's Sub saturates there (about 292 years).
MAX_DURATION = timedelta(microseconds=9223372036854775807 // 1000)

PROP64 = re.compile(r"(11357|11358|11359|11360)")
RELATED = re.compile(
    r"(647\(f\)\s*PC|602\s*PC|466\s*PC|148\.9\s*PC|148\s*PC|11364\s*HS|11550\s*HS|4140\s*BP"
    r"|4149\s*BP|4060\s*BP|40508\s*VC|1320[^\d\.][^\.]*PC)"
)


# ------------------------------------------------------------------------------------------
# Reading the file as the tools did


def read_rows(path: Path) -> list[dict[str, str]]:
    """The DOJ lines as text fields, header skipped."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def parse_date(text: str) -> datetime:
    """time.Parse("20060102", text), the zero time when it fails."""
    try:
        return datetime.strptime(text, "%Y%m%d") if re.fullmatch(r"\d{8}", text) else EPOCH
    except ValueError:
        return EPOCH


def sub(later: datetime, earlier: datetime) -> timedelta:
    """later.Sub(earlier), saturating as Go does."""
    delta = later - earlier
    return min(max(delta, -MAX_DURATION), MAX_DURATION)


def years_since(event: datetime, now: datetime) -> float:
    """EligibilityInfo.yearsSinceEvent: hours / (24 * 365.25)."""
    return sub(now, event).total_seconds() / 3600 / (24 * 365.25)


def part_duration(row: dict[str, str]) -> timedelta:
    """getSentencePartDuration: D days, M months of 30.5 days, Y years of 366 days."""
    try:
        length = int(row["SENT_LENGTH"])
    except ValueError:
        length = 0
    unit = {"D": timedelta(days=1), "M": timedelta(days=30.5), "Y": timedelta(days=366)}
    return length * unit.get(row["SENT_TIME_CODE"], timedelta(0))


def add_date(day: datetime, years: int) -> datetime:
    """time.AddDate(years, 0, 0): 29 February of a common year becomes 1 March."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, month=3, day=1)


@dataclass
class Conviction:
    key: Key
    code_section: str
    date: datetime
    felony: bool  # isFelony of the county flows
    felony_sf: bool  # San Francisco's DOJRow.Felony: CONV_STAT_DESCR == "FELONY"
    county: str
    cycle: str
    cycle_date: datetime
    sentence_end: datetime


@dataclass
class Subject:
    dob: datetime
    convictions: list[Conviction] = field(default_factory=list)
    deceased: bool = False
    pc290_registration: bool = False
    prop64_cycles: set[str] = field(default_factory=set)


def code_section(row: dict[str, str], sf: bool = False) -> str:
    """findCodeSection: the offense text before the first '-', or the comment's."""
    offense = row["OFFENSE_DESCR"]
    in_comment = offense == "SEE COMMENT FOR CHARGE" if sf else offense.strip() in (
        "", "SEE COMMENT FOR CHARGE")  # fmt: skip
    return (row["COMMENT_TEXT"] if in_comment else offense).split("-")[0]


def subjects(rows: list[dict[str, str]], sf: bool = False) -> dict[str, Subject]:
    """Subject.PushRow (DOJHistory.PushRow for San Francisco), row by row in file order."""
    people: dict[str, Subject] = {}
    seen: set[Key] = set()
    for row in rows:
        sid, order = row["SUBJECT_ID"], row["CNT_ORDER"]
        person = people.setdefault(sid, Subject(dob=parse_date(row["PRI_DOB"])))
        section = code_section(row, sf)
        convicted = row["DISP_DESCR"].startswith("CONVICTED")
        if convicted and (sid, order) in seen:
            last = person.convictions[-1]
            last.sentence_end += part_duration(row)
        if row["STP_TYPE_DESCR"] == "DECEASED":
            person.deceased = True
        if row["STP_TYPE_DESCR"] == "REGISTRATION" and row["OFFENSE_DESCR"].startswith("290"):
            person.pc290_registration = True
        if convicted and (sid, order) not in seen:
            seen.add((sid, order))
            when = parse_date(row["STP_EVENT_DATE"])
            stat = row["CONV_STAT_DESCR"]
            person.convictions.append(
                Conviction(
                    key=(sid, order),
                    code_section=section,
                    date=when,
                    felony=stat == "FELONY" or (stat == "" and row["OFFENSE_TOC"] == "F"),
                    felony_sf=stat == "FELONY",
                    county=row["STP_ORI_CNTY_NAME"],
                    cycle=order[:3],
                    cycle_date=parse_date(row["CYC_DATE"]),
                    sentence_end=when + part_duration(row),
                )
            )
        if PROP64.search(section):
            person.prop64_cycles.add(order[:3])
    return people


def most_recent(person: Subject) -> datetime:
    latest = EPOCH
    for conviction in person.convictions:
        latest = max(latest, conviction.date)
    return latest


def years_since_most_recent(person: Subject, now: datetime) -> float:
    latest = most_recent(person)
    return -1.0 if latest == EPOCH else years_since(latest, now)


# ------------------------------------------------------------------------------------------
# The flows

Flow = Callable[[Subject, Conviction, datetime], Verdict]

DISMISS, REDUCE, NOT = "Eligible for Dismissal", "Eligible for Reduction", "Not eligible"
MAYBE, HAND = "Maybe Eligible - Flag for Review", "Hand Review"
CITY = "To be reviewed by City Attorneys"


def sacramento(person: Subject, c: Conviction, now: datetime) -> Verdict:
    if not c.date < NOV_9_2016:
        return NOT, "Occurred after 11/09/2016"
    if not c.felony:
        return DISMISS, "Misdemeanor or Infraction"
    if c.code_section.startswith("11357(b)"):
        return DISMISS, "HS 11357(b)"
    if len(person.convictions) > 1:
        if years_since_most_recent(person, now) > 10:
            return DISMISS, "No convictions in past 10 years"
        return REDUCE, "Has convictions in past 10 years"
    if c.sentence_end < now:
        return DISMISS, "Sentence Completed"
    return REDUCE, "Sentence not Completed"


def five_year_flow(person: Subject, c: Conviction, now: datetime) -> Verdict:
    """San Joaquin and Contra Costa: the same flow, only the county differs."""
    if not c.date < NOV_9_2016:
        return NOT, "Occurred after 11/09/2016"
    if RELATED.search(c.code_section):
        if c.cycle in person.prop64_cycles:
            if c.code_section == "4060 BP":
                return MAYBE, "4060 BP"
            return DISMISS, c.code_section.strip()
        return MAYBE, "No Related Prop64 Charges"
    if not c.felony:
        return DISMISS, "Misdemeanor or Infraction"
    if c.code_section.startswith("11357"):
        return DISMISS, "11357 HS"
    if len(person.convictions) > 1:
        if years_since_most_recent(person, now) > 5:
            return DISMISS, "No convictions in past 5 years"
        return MAYBE, "Has convictions in past 5 years"
    if c.sentence_end < now:
        return DISMISS, "Sentence Completed"
    return MAYBE, "Sentence not Completed"


_GANG = r"186\.22\(B\)\(4\)"
_ENHANCEABLE = r"((136\.1)|(215)|(213\(A\)\(1\)\(A\))|(246)|(519)|(12022\.55))"
LA_SUPERSTRIKES = [re.compile(p) for p in (
    r"37 PC", r"128 PC", _ENHANCEABLE + r".*" + _GANG + r" PC", _GANG + r".*" + _ENHANCEABLE
    + r" PC", r"187 PC", r"188 PC", r"189(\.[15])? PC", r"190(\.\d{1,2})?(\(.*\))? PC",
    r"191(\.5)? PC", r"205 PC", r"207 PC", r"209(\.5)? PC", r"217\.1 PC", r"218 PC", r"219 PC",
    r"220 PC", r"245\(D\)\(3\) PC", r"261(\(.*\))? PC", r"262(\(.*\))? PC", r"264\.1 PC",
    r"269 PC", r"273AB(\(.*\))? PC", r"286((\(C\)\([123]\)(\([ABC]\))?)|(\(D\)\([123]\)))? PC",
    r"287 PC", r"288((\(A\))|(\(B\)\([12]\)))? PC",
    r"288A((\(D\))|(\(C\)\(1\))|(\(C\)\(2\)\([ABC]\)))? PC", r"288\.5(\(A\))? PC",
    r"289((\(J\))|(\(A\)\(1\)\([ABC]\))|(\(A\)\(2\)\(C\)))? PC", r"451\.5 PC", r"653F PC",
    r"667\.(61|7|71) PC", r"4500 PC", r"11418((\(A\)\(1\))|(\(B\)\([12]\))) PC", r"12308 PC",
    r"12310 PC", r"18745 PC", r"18755 PC", r"1672\(A\) MV",
)]  # fmt: skip
LA_PC290 = [re.compile(p) for p in (
    r"236\.1\([BC]\)(.*) PC", r"243\.4(.*) PC", r"261 PC", r"261(\(|\.|[a-zA-Z])+(.*) PC",
    r"262\(A\)(\(1\))? PC", r"264\.1(\((.*))? PC", r"266 PC", r"266C PC", r"266H\(B\)(.*) PC",
    r"266I\(B\)(.*) PC", r"266J PC", r"267 PC", r"269 PC", r"269(\(|\.|[a-zA-Z])+(.*) PC",
    r"272 PC", r"285 PC", r"287 PC", r"286([^\.]*) PC", r"288 PC", r"288A(.*) PC",
    r"288\.[23457](.*) PC", r"289([^\.]*) PC", r"311\.1(.*) PC", r"311\.2\([BCD]\) PC",
    r"311\.([34]|10|11)(.*) PC", r"314\([12]\) PC", r"451\.5 PC", r"647\.6(.*) PC",
    r"647A(.*) PC", r"653F\([BC]\) PC",
)]  # fmt: skip


def _any(patterns: list[re.Pattern[str]], text: str) -> bool:
    return any(p.search(text) for p in patterns)


def los_angeles(person: Subject, c: Conviction, now: datetime) -> Verdict:
    age, years_free = 50.0, 10
    if not c.felony:
        return CITY, "Misdemeanor or Infraction"
    if not c.date < NOV_9_2016:
        return NOT, "Occurred after 11/09/2016"
    found = PROP64.search(c.code_section)
    if found and found.group(1) == "11357":
        if c.code_section.startswith(("11357(A)", "11357(B)")):
            return DISMISS, "11357(a) or 11357(b)"
        return HAND, "Other 11357"
    if any(_any(LA_SUPERSTRIKES, x.code_section) for x in person.convictions):
        return NOT, "PC 667(e)(2)(c)(iv)"
    if person.pc290_registration or any(_any(LA_PC290, x.code_section)
                                        for x in person.convictions):  # fmt: skip
        return NOT, "PC 290"
    prefix = c.code_section[:5]
    priors = [x for x in person.convictions if PROP64.search(x.code_section)
              and x.date < c.date and x.code_section.startswith(prefix)]  # fmt: skip
    if len(priors) >= 2:
        return NOT, "Two priors"
    if years_since(person.dob, now) >= age:
        return DISMISS, "50 years or older"
    if years_since(person.dob, now) <= 21:
        return DISMISS, "21 years or younger"
    completed = not any(x.sentence_end > now for x in person.convictions)
    prop64 = sum(1 for x in person.convictions if PROP64.search(x.code_section))
    if prop64 == len(person.convictions) and completed:
        return DISMISS, "Only has 11357-60 charges and completed sentence"
    if not any(x.date > add_date(now, -years_free) for x in person.convictions):
        return DISMISS, "No convictions in past 10 years"
    if not completed:
        return HAND, "Currently serving sentence"
    if person.deceased:
        return DISMISS, "Deceased"
    return HAND, "????"


SF_SUPERSTRIKES = {
    "187 PC", "191.5 PC", "187-664 PC", "191.5-664 PC", "209 PC", "220 PC", "245(D)(3) PC",
    "261(A)(2) PC", "261(A)(6) PC", "262(A)(2) PC", "262(A)(4) PC", "264.1 PC", "269 PC",
    "286(C)(1) PC", "286(C)(2)(A) PC", "286(C)(2)(B) PC", "286(C)(2)(C) PC", "286(C)(3) PC",
    "286(D)(1) PC", "286(D)(2) PC", "286(D)(3) PC", "288(A) PC", "288(B)(1) PC",
    "288(B)(2) PC", "288A(C)(1) PC", "288A(C)(2)(A) PC", "288A(C)(2)(B) PC",
    "288A(C)(2)(C) PC", "288A(D) PC", "288.5(A) PC", "289(A)(1)(A) PC", "289(A)(1)(B) PC",
    "289(A)(1)(C) PC", "289(A)(2)(C) PC", "289(J) PC", "653F PC", "11418(A)(1) PC",
}  # fmt: skip
SF_PC290 = [re.compile(p) for p in (
    r"290(.*) PC", r"236\.1\([BC]\)(.*) PC", r"243\.4(.*) PC", r"261(.*) PC",
    r"262\(A\)\(1\) PC", r"264\.1(.*) PC", r"266 PC", r"266C PC", r"266H\(B\)(.*) PC",
    r"266I\(B\)(.*) PC", r"266J(.*) PC", r"267 PC", r"269(.*) PC", r"285 PC", r"286([^\.]*) PC",
    r"288([^\.]*) PC", r"288A(.*) PC", r"288\.[23457](.*) PC", r"289([^\.]*) PC",
    r"311\.1(.*) PC", r"311\.2\([BCD]\) PC", r"311\.([34]|10|11)(.*) PC", r"314(.*) PC",
    r"647\.6(.*) PC", r"647A(.*) PC", r"653F\(C\) PC",
)]  # fmt: skip


def san_francisco(person: Subject, c: Conviction, now: datetime) -> Verdict:
    """EligibilityInfoFromDOJRow: no weight is known from the DOJ file alone."""
    charge = c.code_section
    history_applies = c.felony_sf and not charge.startswith("11357")
    if history_applies:
        if person.pc290_registration:
            return "ineligible", "PC 290 registration"
        if any(_any(SF_PC290, x.code_section) for x in person.convictions):
            return "ineligible", "PC 290 offense"
        if any(x.code_section in SF_SUPERSTRIKES for x in person.convictions):
            return "ineligible", "super strike"
        cycles = {x.cycle_date for x in person.convictions
                  if charge == x.code_section.replace(" ", "")}  # fmt: skip
        if len(cycles) > 2:
            return "ineligible", "three convictions of the code section"
    weight_checked = c.felony_sf and not charge.startswith(("11357", "11358"))
    if weight_checked:
        return "needs review", "weight not known"
    return "eligible", "misdemeanor" if not c.felony_sf else "felony"


@dataclass(frozen=True)
class CountyFlow:
    flow: Flow
    in_scope: Callable[[Conviction], bool]
    sf: bool = False


def _prop64(c: Conviction) -> bool:
    return bool(PROP64.search(c.code_section))


FLOWS: dict[str, CountyFlow] = {
    "sacramento-2019": CountyFlow(sacramento, _prop64),
    "san-joaquin-2019": CountyFlow(
        five_year_flow, lambda c: _prop64(c) or bool(RELATED.search(c.code_section))
    ),
    "contra-costa-2019": CountyFlow(
        five_year_flow, lambda c: _prop64(c) or bool(RELATED.search(c.code_section))
    ),
    "los-angeles-2020": CountyFlow(los_angeles, _prop64),
    "san-francisco-2018": CountyFlow(
        san_francisco,
        lambda c: c.code_section.startswith(("11357", "11358", "11359", "11360")),
        sf=True,
    ),
}


def decide(
    preset: str,
    rows: list[dict[str, str]],
    county: str,
    as_of: date,
    sentence_end: dict[Key, date | None] | None = None,
) -> dict[Key, Verdict]:
    """The tool's verdict for every conviction it decides in `county` (upper case)."""
    flow = FLOWS[preset]
    now = datetime(as_of.year, as_of.month, as_of.day)
    verdicts: dict[Key, Verdict] = {}
    for person in subjects(rows, sf=flow.sf).values():
        if sentence_end is not None:
            for c in person.convictions:
                end = sentence_end.get(c.key)
                c.sentence_end = EPOCH if end is None else datetime(end.year, end.month, end.day)
        for c in _in_county(person, county):
            if flow.in_scope(c):
                verdicts[c.key] = flow.flow(person, c, now)
    return verdicts


def _in_county(person: Subject, county: str) -> Iterator[Conviction]:
    return (c for c in person.convictions if c.county == county)
