"""A synthetic federal case list (docs/federal.md): no real person, every kind of case.

The list mixes what a federal defender's export holds: simple possession before, between and
after the two cutoffs (and on them), attempts and conspiracies under 846, D.C. Code and CFR
entries, distribution, import, premises and other-substance cases with long sentences, charged-
only counts, unknown sections, citizenship stated or not, and each statute written in several
of the forms seen in exports. Same seed, same file.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from clearance.records.federal import CASE_LIST_COLUMNS

#: (statute spellings, description, court kind, custody months range or None).
_CASES: tuple[tuple[tuple[str, ...], str, str, tuple[int, int] | None], ...] = (
    (("21 USC 844", "21:844", "21 U.S.C. § 844(a)", "844"), "possession of marijuana", "usdc",
     None),
    (("21 USC 844", "21 U.S.C. § 844"), "simple possession of marihuana", "usdc", None),
    (("846/844", "21 USC 846 (844)"), "attempted possession of marijuana", "usdc", None),
    (("846/844",), "", "usdc", None),
    (("D.C. Code § 48-904.01(d)(1)", "DC Code 48-904.01(d)(1)"), "possession of marijuana", "dc",
     None),
    (("D.C. Code § 48-904.09",), "attempted possession of marijuana", "dc", None),
    (("36 CFR 2.35(b)(2)", "36 C.F.R. § 1002.35(b)(2)", "43 CFR 8365.1-4(b)(2)",
      "25 CFR 11.452(a)", "41 CFR 102-74.400(a)"), "possession of marijuana on federal land",
     "usdc", None),
    (("21 USC 841(a)(1)", "21 U.S.C. § 841(b)(1)(D)", "21:841"),
     "possession with intent to distribute marijuana", "usdc", (24, 240)),
    (("21 USC 846", "846/841"), "conspiracy to distribute marijuana", "usdc", (60, 360)),
    (("21 USC 952(a)", "21 U.S.C. § 960(b)(2)"), "importation of marijuana", "usdc", (36, 180)),
    (("21 USC 856(a)(1)",), "maintaining drug-involved premises", "usdc", (12, 120)),
    (("21 USC 844",), "possession of cocaine", "usdc", None),
    (("",), "possession of marijuana", "usdc", None),
    (("UCMJ Art. 112a",), "wrongful use of marijuana", "military", None),
)  # fmt: skip
_WEIGHTS = (10, 5, 3, 1, 5, 2, 3, 6, 3, 2, 1, 1, 1, 1)
_DISTRICTS = ("C.D. Cal.", "E.D. Cal.", "N.D. Cal.", "S.D. Cal.", "D. Ariz.", "D.D.C.", "W.D. Tex.")
_FIRST = ("ALEX", "SAM", "JORDAN", "RILEY", "CASEY", "MORGAN", "TAYLOR", "JAMIE", "ROBIN", "LEE")
_LAST = ("SYNTHETIC", "EXAMPLE", "SAMPLE", "FICTION", "PLACEHOLDER", "TESTCASE", "MODEL")
_CUTOFFS = (date(2022, 10, 6), date(2023, 12, 22))


@dataclass(frozen=True)
class FederalSynthStats:
    rows: int
    people: int
    malformed_rows: int


def _offense_date(rng: random.Random) -> date:
    roll = rng.random()
    if roll < 0.15:
        cutoff = rng.choice(_CUTOFFS)
        return cutoff + timedelta(days=rng.choice((-1, 0, 1)))
    if roll < 0.25:
        return date(2022, 10, 7) + timedelta(days=rng.randrange(0, 440))
    if roll < 0.3:
        return date(2023, 12, 23) + timedelta(days=rng.randrange(0, 500))
    return date(1975, 1, 1) + timedelta(days=rng.randrange(0, 17_000))


def synth_case_list(
    people: int, seed: int = 0, malformed_share: float = 0.0
) -> tuple[str, FederalSynthStats]:
    """The CSV text of a synthetic case list and what it holds."""
    rng = random.Random(seed)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*CASE_LIST_COLUMNS, "description"])
    rows = malformed = 0
    for number in range(people):
        person = f"FED{number + 1:06d}"
        name = f"{rng.choice(_LAST)}, {rng.choice(_FIRST)}"
        dob = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 20_000))
        citizenship = rng.choice(
            ("citizen", "citizen", "lpr", "", "", "unknown", "unlawfully_present")
        )
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            statutes, description, court_kind, custody = rng.choices(_CASES, _WEIGHTS)[0]
            offense = _offense_date(rng)
            disposition = rng.choice(
                ("convicted", "convicted", "convicted", "charged", "dismissed")
            )
            disposed = offense + timedelta(days=rng.randrange(30, 400))
            court = {
                "usdc": rng.choice(_DISTRICTS),
                "dc": "D.C. Superior Court",
                "military": "General Court-Martial",
            }[court_kind]
            sentence = ""
            if disposition == "convicted":
                if custody:
                    sentence = f"{rng.randrange(*custody)} months"
                else:
                    sentence = rng.choice(("time served", "1 year probation", "30 days", ""))
            row = [
                person,
                name,
                dob.isoformat(),
                citizenship,
                court,
                f"{offense.year % 100:02d}-cr-{rng.randrange(1, 99_999):05d}",
                rng.choice(statutes),
                offense.isoformat() if rng.random() > 0.03 else "",
                disposition,
                disposed.isoformat() if disposition != "charged" else "",
                sentence,
                description,
            ]
            if malformed_share and rng.random() < malformed_share:
                malformed += 1
                broken = rng.choice(("date", "fields", "citizenship"))
                if broken == "date":
                    row[7] = f"{offense.year}-13-40"
                elif broken == "fields":
                    row = row[:6]
                else:
                    row[3] = "martian"
            writer.writerow(row)
            rows += 1
    return buffer.getvalue(), FederalSynthStats(rows, people, malformed)


def write_case_list(
    path: Path, people: int, seed: int = 0, malformed_share: float = 0.0
) -> FederalSynthStats:
    text, stats = synth_case_list(people, seed, malformed_share)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return stats
