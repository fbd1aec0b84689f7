"""A small repository-like DOJ file that reaches the edges of narrowing a repository.

DOJ's whole repository holds everyone, most without any cannabis record; Spark's run (and the
county files) first narrow it to the people a run can decide. The county flows and a policy's
related charges read the record their own way, so the people here are those that a narrowing
to "people with a cannabis conviction" would get wrong: offense text the flows' patterns match
but the parser does not read as cannabis (and the other way round), lower-case sections,
convictions in other counties, set-asides, PC 182 / 4573.6 / 32, related charges with no
cannabis conviction at all, and dismissed cannabis charges beside a conviction. They are
appended to a synthetic repository of San Joaquin (with people in other counties too).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from clearance.synth import write_synthetic
from scenarios.builder import Event, rows_for, write_doj

#: The county every run of these tests decides.
COUNTY = "SAN JOAQUIN"
_SJ, _LA, _SAC, _FRESNO = COUNTY, "LOS ANGELES", "SACRAMENTO", "FRESNO"


def edge_id(number: int) -> str:
    """The SUBJECT_ID of edge person `number` (from 1, in the order below): ten digits, where
    the synthetic people's have eight."""
    return f"77{number:08d}"


def _count(offense: str, level: str = "M", disposition: str = "CONVICTED") -> dict[str, Any]:
    return {"offense": offense, "level": level, "disposition": disposition}


def _histories() -> list[list[Event]]:
    """One list of arrest cycles per edge person."""
    d = date
    return [
        # A cannabis felony: the plain case.
        [Event("11359 HS-POSSESS MARIJUANA FOR SALE", d(2010, 3, 1), county=_SJ,
               sentence=["30D"])],
        # A related charge only (San Joaquin's and Contra Costa's flows decide it), no cannabis
        # record at all.
        [Event("11550 HS-UNDER INFLUENCE CNTL SUB", d(2011, 4, 1), county=_SJ, level="M")],
        # A dismissed cannabis charge beside a related conviction (the flows' related charge,
        # San Francisco's possible plea bargain, a policy's related charge to review).
        [Event("11359 HS-POSSESS MARIJUANA FOR SALE", d(2012, 6, 1), county=_SJ,
               disposition="DISMISSED",
               extra_counts=[_count("11364 HS-POSSESS DRUG PARAPHERNALIA")])],
        # A lower-case section (Sacramento's flow compares 11357(b) letter for letter), with
        # convictions in other counties.
        [Event("11357(b) hs-POSS MARIJUANA", d(2009, 1, 1), county=_SJ, level="M"),
         Event("602 PC-TRESPASSING", d(2013, 1, 1), county=_LA, level="M"),
         Event("459 PC-BURGLARY", d(2014, 2, 2), county=_SAC)],
        # A conviction set aside under PC 1203.4 (in the engine's scope, not in the flows').
        [Event("11360(A) HS-TRANSPORT/SELL MARIJUANA", d(2008, 7, 7), county=_SJ,
               disposition="CONV SET ASIDE & DISM PER 1203.4 PC")],
        # PC 182 and 4573.6 naming marijuana, and PC 32 beside a dismissed HS 11360.
        [Event("182(A)(1) PC-CONSPIRACY: 11359 MARIJUANA", d(2007, 1, 1), county=_SJ),
         Event("4573.6 PC-POSS CNTL SUB IN PRISON: MARIJUANA", d(2008, 1, 1), county=_SJ),
         Event("11360 HS-SELL MARIJUANA", d(2009, 9, 9), county=_SJ, disposition="DISMISSED",
               extra_counts=[_count("32 PC-ACCESSORY", level="F")])],
        # Text the flows' pattern finds (11357 anywhere) that is not cannabis (HS 11357.5),
        # and a related charge written as the pattern reads it.
        [Event("11357.5 HS-SYNTHETIC CANNABINOID", d(2017, 1, 1), county=_SJ, level="M"),
         Event("148 PC-OBSTRUCT", d(2017, 5, 1), county=_SJ, level="M")],
        # A cannabis conviction in another county, a related charge in this one.
        [Event("11358 HS-CULTIVATE MARIJUANA", d(2005, 5, 5), county=_LA),
         Event("148 PC-RESIST OFFICER", d(2006, 6, 6), county=_SJ, level="M")],
        # San Francisco's plea-bargain shape: HS 11366 beside a dismissed HS 11357.
        [Event("11357(C) HS-POSS MARIJUANA", d(2011, 2, 2), county=_SJ, level="M",
               disposition="DISMISSED", extra_counts=[_count("11366 HS-MAINTAIN PLACE", "F")])],
        # No cannabis record: never decided.
        [Event("459 PC-BURGLARY", d(2015, 1, 1), county=_SJ)],
        [Event("11377 HS-POSS CNTL SUB", d(2015, 1, 1), county=_SJ, level="M")],
        # A former cannabis section, before the 1972 recodification.
        [Event("11530 HS-POSS MARIJUANA", d(1970, 1, 1), county=_SJ)],
        # A super strike in another county (Los Angeles' flow reads any county).
        [Event("187 PC-MURDER", d(1990, 1, 1), county=_LA),
         Event("11360(A) HS-TRANSPORT MARIJUANA", d(2012, 1, 1), county=_SJ)],
        # The code written first, an attempt, and a related charge the pattern misses (upper
        # case 647(F)).
        [Event("HS 11359-POSS MJ FOR SALE", d(2013, 3, 3), county=_SJ, sentence=["2Y"]),
         Event("664-11357(C) HS-ATTEMPT POSS MARIJUANA", d(2014, 3, 3), county=_SJ, level="M"),
         Event("647(F) PC-DISORDERLY CONDUCT:INTOX", d(2015, 3, 3), county=_SJ, level="M")],
        # Cannabis in this county, related charges in another one with a cannabis conviction
        # of its own (Sacramento), and in one without any (Fresno: no run, no county file).
        [Event("11357(A) HS-POSS CONCENTRATED CANNABIS", d(2006, 8, 8), county=_SJ),
         Event("11550 HS-UNDER INFLUENCE CNTL SUB", d(2007, 8, 8), county=_SAC, level="M"),
         Event("602 PC-TRESPASSING", d(2008, 8, 8), county=_FRESNO, level="M")],
        [Event("11360(B) HS-GIVE AWAY MARIJUANA", d(2011, 9, 9), county=_SAC, level="M")],
    ]  # fmt: skip


HISTORIES = _histories()
EDGE_IDS = frozenset(edge_id(i) for i in range(1, len(HISTORIES) + 1))


def write_repository(path: Path) -> Path:
    """A synthetic San Joaquin repository (most people without a cannabis record) with the
    edge people after it (subject ids of their own)."""
    write_synthetic(path, rows=4000, county=COUNTY, seed=5, repository=True)
    edges = path.with_name(path.name + ".edges")
    people = [
        rows_for(edge_id(i), date(1975 + i, 5, 1), history, name=f"EDGE,PERSON {i}")
        for i, history in enumerate(HISTORIES, start=1)
    ]
    write_doj(edges, people, header=False)
    with path.open("ab") as sink:
        sink.write(edges.read_bytes())
    edges.unlink()
    return path
