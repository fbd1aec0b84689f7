"""Synthetic DOJ bulk files for demos, tests and benchmarks.

Real bulk files are confidential, yet the reader, the engine and the benchmarks need inputs that
look and misbehave like them: whole criminal histories over five decades and several counties,
offense text typed in a dozen ways, pleas, sentence parts spread over repeated rows, registration
and death events, unknown dates, Latin-1 names and a share of broken rows. This module writes
such files, column-compatible with ``records.schema.DOJ_COLUMNS``.

It only makes inputs. It knows nothing of eligibility: which of these records a county may clear
is decided by ``law`` and ``policy``, never here.

How it is built, and why:

* **Vectorised.** People are drawn in fixed-size batches; cycles per person, counts per cycle
  and sentence parts per count are expanded with ``numpy.repeat``/``cumsum`` and every text
  column is a Polars gather from a small table, joined with ``concat_str``. There is no Python
  loop per row or per person, so millions of rows take seconds.
* **Deterministic.** Each batch has its own ``SeedSequence([seed, 1, batch])`` and the batch
  size does not depend on ``rows``, so the same arguments give byte-identical files and a
  shorter file is (malformed rows aside) a prefix of a longer one. No clock, no dict order.
* **Exact size.** The last batch is cut to the requested number of rows (the last person's
  history may be cut short, as at the end of a real delivery).
* **Broken rows on purpose.** ``malformed_share`` of the rows, spread evenly over the file,
  each carry exactly one defect a reader must quarantine (see ``MALFORMED_KINDS``).
"""

from __future__ import annotations

import codecs
import gzip
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import polars as pl

from clearance.records.schema import DOJ_COLUMNS, DOJ_FIELD_COUNT

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]

__all__ = ["MALFORMED_KINDS", "SynthStats", "write_synthetic"]


@dataclass(frozen=True)
class SynthStats:
    """What `write_synthetic` wrote, so callers can check loaded + quarantined = rows."""

    rows: int  #: data rows written (excluding the header)
    people: int  #: distinct people with at least one row in the file
    malformed_rows: int  #: rows deliberately malformed (one defect each)
    bytes_written: int  #: size of the file on disk (compressed size for .gz)


# --------------------------------------------------------------------------------------------
# Layout constants
# --------------------------------------------------------------------------------------------

#: The placeholder real files carry in unused fields; quoted as in the files seen.
PH = '"  -  "'

_EPOCH = np.datetime64("1970-01-01", "D")


def _day(iso: str) -> int:
    """Days since 1970-01-01, the integer date unit used throughout the generator."""
    return int((np.datetime64(iso, "D") - _EPOCH).astype(np.int64))


#: Last date a synthetic event can carry: the extract is taken early in 2026.
_LAST_DAY = _day("2025-12-31")
_DAY_1955 = _day("1955-01-01")
_DAY_1973 = _day("1973-01-01")
_DAY_1998 = _day("1998-01-01")
_DAY_2011 = _day("2011-01-01")

#: People per batch: fixed so that the output does not depend on `rows` (prefix property) and
#: small enough that a batch (~30k rows) stays a few tens of MB.
_PEOPLE_PER_BATCH = 1024
#: In a repository file, the share of people with a cannabis conviction.
_REPOSITORY_SHARE = 0.1


def _q(text: str) -> str:
    """RFC 4180: quote a field when it holds a comma or a quote (quotes doubled)."""
    if "," in text or '"' in text:
        return '"' + text.replace('"', '""') + '"'
    return text


# --------------------------------------------------------------------------------------------
# Offense catalog. Texts follow the variants listed in doj-bulk-file.md; weights give a rough
# mix within a category. Categories are drawn per cycle ("theme") and per count.
# --------------------------------------------------------------------------------------------

CANNABIS, LOOKALIKE, DRUG, THEFT, TRAFFIC, PUBLIC, SERIOUS, CONSPIRACY = range(8)
_N_CATEGORIES = 8
#: Category mix of cycles other than the person's anchor cannabis cycle.
_THEME_P = np.array([0.20, 0.02, 0.20, 0.17, 0.18, 0.18, 0.02, 0.03])
#: Chance that a count follows its cycle's theme rather than the overall mix.
_THEME_STICK = 0.7


class _Offense(NamedTuple):
    category: int
    text: str
    toc: str  # F, M, I or W (wobbler: drawn F or M)
    weight: float
    former: str = ""  # pre-1973 section text replacing this one for cycles before 1973
    infraction_from_2011: bool = False  # 11357(b) became an infraction in 2011
    registrable: bool = False  # a conviction leads to a PC 290 REGISTRATION step


_F11530 = "11530 HS-POSSESSION OF MARIJUANA"
_F115305 = "11530.5 HS-POSSESS MARIJUANA FOR SALE"
_F11531 = "11531 HS-SELL/TRANSPORT/ETC MARIJUANA"

_CATALOG: tuple[_Offense, ...] = (
    # cannabis, HS 11357-11360, every text variant of the format notes
    _Offense(CANNABIS, "11357 HS-POSSESSION OF MARIJUANA", "M", 6, _F11530),
    _Offense(CANNABIS, "11357(A) HS-POSSESS CONCENTRATED CANNABIS", "W", 5, _F11530),
    _Offense(CANNABIS, "11357(B) HS-POSS MARIJ 28.5 GRAMS OR LESS", "M", 10, _F11530, True),
    _Offense(CANNABIS, "11357(C) HS-POSS MARIJUANA OVER 1 OZ/28.5 GRAM", "M", 8, _F11530),
    _Offense(CANNABIS, "11357(C)HS-POSS MARIJUANA OVER 1 OZ/28.5 GRAM", "M", 1, _F11530),
    _Offense(CANNABIS, "11357(b)HS-POSS MARIJ 28.5 GRAMS OR LESS", "M", 1, _F11530, True),
    _Offense(CANNABIS, "11357A HS-POSS CONCENTRATED CANNABIS", "W", 1, _F11530),
    _Offense(CANNABIS, "11357B2 HS-POSS MARIJ OVER 28.5 GRAMS:21+", "M", 1),
    _Offense(CANNABIS, "11357(D) HS-POSS MARIJ ON SCHOOL GROUNDS", "M", 1, _F11530),
    _Offense(CANNABIS, "HS 11357(b)", "M", 1, _F11530, True),
    _Offense(CANNABIS, "/11357 HS", "M", 1, _F11530),
    _Offense(CANNABIS, "11358 HS-CULTIVATE MARIJUANA", "F", 8, _F11530),
    _Offense(CANNABIS, "11358(C) HS-CULTIVATE MARIJUANA 6+ PLANTS", "W", 1),
    _Offense(CANNABIS, "11358(D) HS-CULTIVATE MARIJ W/PRIOR/ETC", "F", 0.3),
    _Offense(CANNABIS, "11359 HS-POSSESS MARIJUANA FOR SALE", "F", 12, _F115305),
    _Offense(CANNABIS, " 11359 HS-POSSESS MARIJUANA FOR SALE", "F", 0.5, _F115305),
    _Offense(CANNABIS, "11359HS-INTENT SELL CANNABIS", "F", 1, _F115305),
    _Offense(CANNABIS, "11359(B) HS-POSSESS MARIJUANA FOR SALE", "M", 1),
    _Offense(CANNABIS, "11359(C)(3) HS-POSS MARIJ FOR SALE:SELL TO MINOR", "F", 0.3),
    _Offense(CANNABIS, "11360(A) HS-SELL/TRANSPORT/ETC MARIJUANA", "F", 8, _F11531),
    _Offense(CANNABIS, "11360(A) HS-GIVE/ETC MARIJ OVER 1 OZ/28.5 GRM", "F", 2, _F11531),
    _Offense(CANNABIS, "11360A2 HS-TRANSPORT/ETC MARIJUANA", "M", 1),
    _Offense(CANNABIS, "11360(B) SELL/FURNISH/ETC MARIJUANA/HASH", "M", 2, _F11531),
    _Offense(CANNABIS, "11360(b) HS-GIVE/TRANSPORT MARIJ 28.5 GRM/LESS", "M", 1, _F11531),
    _Offense(CANNABIS, "664/11359 HS-ATTEMPT POSS MARIJUANA FOR SALE", "F", 1),
    _Offense(CANNABIS, "664.11357(C) HS", "M", 0.5),
    _Offense(CANNABIS, "66411357(C) HS", "M", 0.5),
    _Offense(CANNABIS, "664-11357(C) HS", "M", 0.5),
    _Offense(CANNABIS, "664/11360(A) HS-ATTEMPT SELL/TRANSPORT MARIJUANA", "F", 0.5),
    _Offense(CANNABIS, _F11530, "F", 0),
    _Offense(CANNABIS, _F115305, "F", 0),
    _Offense(CANNABIS, _F11531, "F", 0),
    # look-alikes: cannabis-sounding, not HS 11357-11360
    _Offense(LOOKALIKE, "11357.5(A) HS-SELL/ETC SYNTHETIC CANNABINOID", "M", 3),
    _Offense(LOOKALIKE, "11357.5(B) HS-USE/POSS SYNTHETIC CANNABINOID", "I", 3),
    _Offense(LOOKALIKE, "11359.5 HS-SELL/ETC SYNTHETIC CANNABINOID", "M", 1),
    _Offense(LOOKALIKE, "11355 HS-SELL/ETC SUBSTITUTE FOR CNTL SUBST", "W", 2),
    _Offense(LOOKALIKE, "23222(B) VC-POSS MARIJ 1 OZ/LESS WHILE DRIVING", "M", 2),
    _Offense(LOOKALIKE, "11362.3(A)(1) HS-SMOKE MARIJUANA IN PUBLIC", "I", 1),
    # other drug offenses
    _Offense(DRUG, "11350(A) HS-POSSESS NARCOTIC CONTROLLED SUBSTANCE", "W", 10),
    _Offense(DRUG, "11350 HS-POSSESS NARCOTIC CONTROLLED SUBSTANCE", "W", 3),
    _Offense(DRUG, "11377(A) HS-POSSESS CONTROLLED SUBSTANCE", "W", 10),
    _Offense(DRUG, "11351 HS-POSS/PURCHASE FOR SALE NARC/CNTL SUB", "F", 5),
    _Offense(DRUG, "11351.5 HS-POSS/PURCHASE COCAINE BASE FOR SALE", "F", 3),
    _Offense(DRUG, "11352(A) HS-TRANSPORT/SELL NARCOTIC/CNTL SUB", "F", 4),
    _Offense(DRUG, "11378 HS-POSSESS CNTL SUBSTANCE FOR SALE", "F", 4),
    _Offense(DRUG, "11379(A) HS-TRANSPORT/SELL CONTROLLED SUBSTANCE", "F", 3),
    _Offense(DRUG, "11364 HS-POSSESS CONTROL SUBSTANCE PARAPHERNA", "M", 8),
    _Offense(DRUG, "11364.1 HS-POSS DRUG PARAPHERNALIA", "M", 2),
    _Offense(DRUG, "11366 HS-OPEN/MAINTAIN PLACE:SELL/USE CNTL SUB", "W", 1),
    _Offense(DRUG, "11550(A) HS-USE/UNDER INFLUENCE CONTROL SUBST", "M", 8),
    _Offense(DRUG, "4060 BP-POSSESS CONTROLLED SUBSTANCE W/O PRESCR", "M", 2),
    _Offense(DRUG, "4140 BP-POSSESS HYPODERMIC NEEDLE/SYRINGE", "M", 2),
    _Offense(DRUG, "4149 BP-POSSESS HYPODERMIC NEEDLE/SYRINGE", "M", 1),
    _Offense(DRUG, "4573.6 PC-POSS CNTL SUBS WHERE PRISONERS KEPT", "F", 1),
    # theft and property
    _Offense(THEFT, "484(A) PC-THEFT OF PERSONAL PROPERTY", "M", 6),
    _Offense(THEFT, "484(A)/490.5 PC-PETTY THEFT", "M", 2),
    _Offense(THEFT, "488 PC-PETTY THEFT", "M", 5),
    _Offense(THEFT, "459 PC-BURGLARY", "F", 6),
    _Offense(THEFT, "460(B) PC-BURGLARY:SECOND DEGREE", "W", 3),
    _Offense(THEFT, "487(A) PC-GRAND THEFT:MONEY/LABOR/PROPERTY", "W", 3),
    _Offense(THEFT, "496(A) PC-RECEIVE/ETC KNOWN STOLEN PROPERTY", "W", 4),
    _Offense(THEFT, "10851(A) VC-TAKE VEHICLE W/O OWNER CONSENT", "W", 4),
    _Offense(THEFT, "211 PC-ROBBERY", "F", 2),
    _Offense(THEFT, "212.5(C) PC-ROBBERY:SECOND DEGREE", "F", 2),
    _Offense(THEFT, "470(A) PC-FORGERY", "W", 1),
    _Offense(THEFT, "530.5(A) PC-IDENTITY THEFT", "W", 1),
    _Offense(THEFT, "666 PC-PETTY THEFT W/PRIOR JAIL:SPEC OFFENSES", "W", 1),
    # traffic
    _Offense(TRAFFIC, "23152(A) VC-DUI ALCOHOL/DRUGS", "M", 10),
    _Offense(TRAFFIC, "23152(B) VC-DUI ALCOHOL 0.08 PERCENT", "M", 8),
    _Offense(TRAFFIC, "14601.1(A) VC-DRIVE WHILE LIC SUSPEND/ETC", "M", 8),
    _Offense(TRAFFIC, "12500(A) VC-DRIVE W/O LICENSE", "M", 6),
    _Offense(TRAFFIC, "20002(A) VC-HIT AND RUN:PROPERTY DAMAGE", "M", 2),
    _Offense(TRAFFIC, "2800.2 VC-EVADE PEACE OFFICER:DISREGARD SAFETY", "W", 1),
    _Offense(TRAFFIC, "23103 VC-RECKLESS DRIVING", "M", 2),
    _Offense(TRAFFIC, "40508(A) VC-FAIL TO APPEAR:WRITTEN PROMISE", "M", 3),
    _Offense(TRAFFIC, "22350 VC-UNSAFE SPEED", "I", 1),
    _Offense(TRAFFIC, "4000(A) VC-NO REGISTRATION", "I", 1),
    # violence and public order
    _Offense(PUBLIC, "242 PC-BATTERY", "M", 5),
    _Offense(PUBLIC, "243(E)(1) PC-BATTERY:SPOUSE/EX SPOUSE/DATE/ETC", "M", 3),
    _Offense(PUBLIC, "245(A)(1) PC-ADW NOT FIREARM:GBI LIKELY", "W", 3),
    _Offense(PUBLIC, "273.5(A) PC-INFLICT CRPL INJ SPOUSE/COHAB", "W", 3),
    _Offense(PUBLIC, "422 PC-THREATEN CRIME W/INTENT TO TERRORIZE", "W", 2),
    _Offense(PUBLIC, "148(A)(1) PC-OBSTRUCT/RESIST PUBLIC OFFICER/ETC", "M", 5),
    _Offense(PUBLIC, " 148 PC - RESISTING", "M", 1),
    _Offense(PUBLIC, "148.9(A) PC-FALSE ID TO PEACE OFFICER", "M", 2),
    _Offense(PUBLIC, "415 PC-FIGHT/NOISE/OFFENSIVE WORDS", "M", 2),
    _Offense(PUBLIC, "647(F) PC-DISORDERLY CONDUCT:INTOX DRUG/ALCOHOL", "M", 5),
    _Offense(PUBLIC, "602(K) PC-TRESPASS:INTERFERE W/BUSINESS", "M", 2),
    _Offense(PUBLIC, "466 PC-POSSESS BURGLARY TOOLS", "M", 1),
    _Offense(PUBLIC, "1320(A) PC-FAIL TO APPEAR:MISDEMEANOR", "M", 1),
    _Offense(PUBLIC, "166(A)(4) PC-CONTEMPT:DISOBEY COURT ORDER/ETC", "M", 2),
    _Offense(PUBLIC, "12025(A)(1) PC-CARRY CONCEALED WEAPON IN VEHICLE", "W", 1),
    _Offense(PUBLIC, "12031(A)(1) PC-CARRY LOADED FIREARM:PUBLIC PLACE", "W", 1),
    _Offense(PUBLIC, "29800(A)(1) PC-FELON/ADDICT POSSESS/ETC FIREARM", "F", 1),
    _Offense(PUBLIC, "594(A) PC-VANDALISM", "W", 2),
    _Offense(PUBLIC, "69 PC-OBSTRUCT/RESIST EXECUTIVE OFFICER", "W", 1),
    # serious and violent felonies, sex offenses (super strikes, PC 290 registrable)
    _Offense(SERIOUS, "187(A) PC-MURDER", "F", 1),
    _Offense(SERIOUS, "664/187(A) PC-ATTEMPTED MURDER", "F", 1),
    _Offense(SERIOUS, "192(A) PC-MANSLAUGHTER:VOLUNTARY", "F", 1),
    _Offense(SERIOUS, "288(A) PC-LEWD OR LASCIV ACTS W/CHILD UNDER 14", "F", 1, registrable=True),
    _Offense(SERIOUS, "261(A)(2) PC-RAPE BY FORCE/FEAR/ETC", "F", 1, registrable=True),
    _Offense(
        SERIOUS, "269(A)(1) PC-AGGRAVATED SEXUAL ASSAULT OF CHILD", "F", 0.3, registrable=True
    ),
    _Offense(SERIOUS, "289(A)(1) PC-SEXUAL PENETRATION BY FORCE/ETC", "F", 0.3, registrable=True),
    _Offense(SERIOUS, "286(C)(2) PC-SODOMY BY FORCE/ETC", "F", 0.3, registrable=True),
    _Offense(SERIOUS, "288.5(A) PC-CONTINUOUS SEXUAL ABUSE OF CHILD", "F", 0.2, registrable=True),
    _Offense(SERIOUS, "647.6(A) PC-ANNOY/MOLEST CHILD UNDER 18", "M", 0.8, registrable=True),
    _Offense(SERIOUS, "314.1 PC-INDECENT EXPOSURE", "M", 0.8, registrable=True),
    _Offense(SERIOUS, "653F(B) PC-SOLICIT MURDER", "F", 0.2),
    _Offense(SERIOUS, "245(D)(3) PC-ASSAULT PEACE OFFICER W/MACHINE GUN", "F", 0.1),
    _Offense(SERIOUS, "207(A) PC-KIDNAPPING", "F", 0.4),
    _Offense(SERIOUS, "451(B) PC-ARSON:INHABITED STRUCTURE", "F", 0.3),
    # conspiracy and accessory: the target is in the comment or another count
    _Offense(CONSPIRACY, "182(A)(1) PC-CONSPIRACY:COMMIT CRIME", "F", 3),
    _Offense(CONSPIRACY, "32 PC-ACCESSORY", "W", 3),
)

#: Registration events: PC 290 (sex offenders) and HS 11590 (narcotics offenders).
_REG_290_TEXTS = (
    "290 PC-REGISTRATION OF SEX OFFENDER",
    "290(A) PC-REGISTRATION:SEX OFFENDER",
    "290 PC-REGISTRATION",
)
_REG_11590_TEXT = "11590 HS-REGISTRATION OF CNTL SUBST OFFENDER"

#: Offense column table: catalog, registrations, then the special values.
_TEXTS: tuple[str, ...] = (
    *(o.text for o in _CATALOG),
    *_REG_290_TEXTS,
    _REG_11590_TEXT,
    "SEE COMMENT FOR CHARGE",
    "",
    "  -  ",
)
_N_OFF = len(_CATALOG)
_T_REG290 = _N_OFF
_T_REG11590 = _N_OFF + len(_REG_290_TEXTS)
_T_SEE = _T_REG11590 + 1
_T_EMPTY = _T_SEE + 1
_T_PH = _T_EMPTY + 1
_TEXTS_Q: tuple[str, ...] = (*(_q(t) for t in _TEXTS[:-1]), PH)


def _catalog_arrays() -> tuple[F64, I64, I64, I64, Bool, Bool, Bool]:
    """Lookup arrays over the catalog, computed once.

    Returns the cumulative-weight key (category + cumulative share within the category, for a
    single `searchsorted` draw), the last index of each category, the base type of charge
    (0 F, 1 M, 2 I, 3 wobbler), the former-section index (-1 none), and the cannabis,
    infraction-from-2011 and registrable flags.
    """
    cats = np.array([o.category for o in _CATALOG], dtype=np.int64)
    if np.any(np.diff(cats) < 0):
        raise AssertionError("the catalog must be grouped by category")
    weights = np.array([o.weight for o in _CATALOG], dtype=np.float64)
    key = np.zeros(_N_OFF, dtype=np.float64)
    last = np.zeros(_N_CATEGORIES, dtype=np.int64)
    for c in range(_N_CATEGORIES):
        idx = np.flatnonzero(cats == c)
        share = np.cumsum(weights[idx]) / weights[idx].sum()
        share[-1] = 1.0
        key[idx] = c + share
        last[c] = idx[-1]
    toc = np.array(["FMIW".index(o.toc) for o in _CATALOG], dtype=np.int64)
    position = {o.text: i for i, o in enumerate(_CATALOG)}
    former = np.array([position[o.former] if o.former else -1 for o in _CATALOG], np.int64)
    cannabis = cats == CANNABIS
    inf2011 = np.array([o.infraction_from_2011 for o in _CATALOG], dtype=np.bool_)
    registrable = np.array([o.registrable for o in _CATALOG], dtype=np.bool_)
    return key, last, toc, former, cannabis, inf2011, registrable


(
    _CAT_KEY,
    _CAT_LAST,
    _CAT_TOC,
    _CAT_FORMER,
    _CAT_CANNABIS,
    _CAT_INF2011,
    _CAT_REGISTRABLE,
) = _catalog_arrays()
_CAT_SERIOUS = np.array([o.category == SERIOUS for o in _CATALOG], dtype=np.bool_)
_CAT_CONSPIRACY_182 = np.array([o.text.startswith("182") for o in _CATALOG], dtype=np.bool_)


def _indices(texts: Sequence[str]) -> I64:
    """Catalog positions of the given texts (plea targets)."""
    position = {o.text: i for i, o in enumerate(_CATALOG)}
    return np.array([position[t] for t in texts], dtype=np.int64)


#: Offenses a cannabis charge is pleaded down (or sideways) to.
_PLEA_FROM_CANNABIS = _indices(
    (
        "11357(C) HS-POSS MARIJUANA OVER 1 OZ/28.5 GRAM",
        "11357(B) HS-POSS MARIJ 28.5 GRAMS OR LESS",
        "11360(B) SELL/FURNISH/ETC MARIJUANA/HASH",
        "11359 HS-POSSESS MARIJUANA FOR SALE",
        "32 PC-ACCESSORY",
        "11364 HS-POSSESS CONTROL SUBSTANCE PARAPHERNA",
    )
)
#: Offenses any other charge is pleaded to (some of them cannabis offenses).
_PLEA_FROM_OTHER = _indices(
    (
        "11359 HS-POSSESS MARIJUANA FOR SALE",
        "11357(C) HS-POSS MARIJUANA OVER 1 OZ/28.5 GRAM",
        "32 PC-ACCESSORY",
        "415 PC-FIGHT/NOISE/OFFENSIVE WORDS",
        "23103 VC-RECKLESS DRIVING",
        "496(A) PC-RECEIVE/ETC KNOWN STOLEN PROPERTY",
        "647(F) PC-DISORDERLY CONDUCT:INTOX DRUG/ALCOHOL",
        "11364 HS-POSSESS CONTROL SUBSTANCE PARAPHERNA",
        "11377(A) HS-POSSESS CONTROLLED SUBSTANCE",
        "488 PC-PETTY THEFT",
    )
)

# --------------------------------------------------------------------------------------------
# Small tables: dispositions, levels, sentences, steps, agencies, comments
# --------------------------------------------------------------------------------------------

#: Court dispositions (index + 1 in the DISP_DESCR table) and their shares.
_COURT_DISP = (
    "CONVICTED",
    "CONVICTED-PROBATION",
    "CONVICTED-JAIL",
    "CONVICTED-PRISON",
    "DISMISSED",
    "DISMISSED/CHARGE DROPPED",
    "ACQUITTED",
    "CONV SET ASIDE & DISM PER 1203.4 PC",
    "REL/TOT OTHER JURIS/AUTH",
    "PROS REJ-INSUFFICIENT EVIDENCE",
    "DISMISSED/FURTHERANCE OF JUSTICE",
)
_COURT_DISP_P = np.array([0.50, 0.06, 0.05, 0.02, 0.17, 0.05, 0.02, 0.06, 0.02, 0.02, 0.03])
_D_PRISON = 3
_D_SET_ASIDE = 7
#: Dispositions recorded on the arrest step when no court step follows.
_ARREST_DISP = (
    "PROS REJ-INSUFFICIENT EVIDENCE",
    "RELEASED/DETENTION ONLY",
    "PROS REJ-INTEREST OF JUSTICE",
    "REL/TOT OTHER JURIS/AUTH",
)
_DISP_TABLE: tuple[str, ...] = ("", *(_q(d) for d in _COURT_DISP), *_ARREST_DISP)
_DISP_ARREST0 = 1 + len(_COURT_DISP)

_TOC_TABLE = ("F", "M", "I", "", PH)  # 0 F, 1 M, 2 I, 3 none, 4 placeholder
_LEVEL_TABLE = ("", "FELONY", "MISDEMEANOR", "INFRACTION")

#: Sentence parts: 0 none, 1 JAIL, 2 PRISON, 3 PROBATION, 4 FINE (a fine carries no length
#: or unit: an amount of money must not be read as a duration).
_SENT_LOC_TABLE = (PH, "JAIL", "PRISON", "PROBATION", "FINE")
_JAIL, _PRISON, _PROBATION, _FINE = 1, 2, 3, 4
#: Part kinds by first part (row) and part number (column).
_PART_KIND = np.array(
    [
        [0, 0, 0],
        [_JAIL, _PROBATION, _FINE],
        [_PRISON, _JAIL, _FINE],
        [_PROBATION, _FINE, _JAIL],
        [_FINE, _FINE, _FINE],
    ],
    dtype=np.int64,
)
#: Units: 0 none, 1 D, 2 M, 3 Y. The description is space-padded as in real extracts.
_UNIT_CODE_TABLE = ("", "D", "M", "Y")
_UNIT_DESCR_TABLE = (PH, "DAYS      ", "MONTHS    ", "YEARS     ")

_STEP_TABLE = (
    "ARREST/DETAINED/CITED",
    "COURT ACTION",
    "COURT",
    "PROBATION",
    "CUSTODY",
    "SUPPLEMENTAL ARR",
    "REGISTRATION",
    "DECEASED",
)
_S_COURT_ACTION, _S_COURT, _S_PROBATION = 1, 2, 3
_S_REGISTRATION, _S_DECEASED = 6, 7

#: Agencies: (ORI prefix, ORI code suffix). Sheriff, police, highway patrol, superior court,
#: municipal court, probation, coroner.
_AGENCIES = (
    ("CASO", "0000"),
    ("CAPD", "0200"),
    ("CAHP", "9500"),
    ("CASC", "013J"),
    ("CAMC", "023J"),
    ("CAPR", "001P"),
    ("CACO", "0050"),
)
_A_SO, _A_PD, _A_HP, _A_SC, _A_MC, _A_PR, _A_CO = range(7)

#: California county codes used in ORI codes (alphabetical, 01-58).
_COUNTY_CODES: dict[str, str] = {
    name: f"{i:02d}"
    for i, name in enumerate(
        (
            "ALAMEDA", "ALPINE", "AMADOR", "BUTTE", "CALAVERAS", "COLUSA", "CONTRA COSTA",
            "DEL NORTE", "EL DORADO", "FRESNO", "GLENN", "HUMBOLDT", "IMPERIAL", "INYO", "KERN",
            "KINGS", "LAKE", "LASSEN", "LOS ANGELES", "MADERA", "MARIN", "MARIPOSA",
            "MENDOCINO", "MERCED", "MODOC", "MONO", "MONTEREY", "NAPA", "NEVADA", "ORANGE",
            "PLACER", "PLUMAS", "RIVERSIDE", "SACRAMENTO", "SAN BENITO", "SAN BERNARDINO",
            "SAN DIEGO", "SAN FRANCISCO", "SAN JOAQUIN", "SAN LUIS OBISPO", "SAN MATEO",
            "SANTA BARBARA", "SANTA CLARA", "SANTA CRUZ", "SHASTA", "SIERRA", "SISKIYOU",
            "SOLANO", "SONOMA", "STANISLAUS", "SUTTER", "TEHAMA", "TRINITY", "TULARE",
            "TUOLUMNE", "VENTURA", "YOLO", "YUBA",
        ),
        start=1,
    )
}  # fmt: skip
#: Other counties a person's history passes through (the home county is removed if listed).
_OTHER_COUNTIES = (
    "LOS ANGELES", "ALAMEDA", "SAN JOAQUIN", "CONTRA COSTA", "SAN FRANCISCO", "YOLO",
    "PLACER", "SAN DIEGO", "FRESNO", "EL DORADO", "SOLANO", "KERN", "ORANGE",
)  # fmt: skip
_N_OTHER = 12
_HOME_SHARE = 0.72

_GENERIC_COMMENTS = (
    "RESTITUTION ORDERED",
    "DNA SAMPLE COLLECTED",
    "COUNTS CONSOLIDATED, SEE CASE",
    'PER DA "NO FILE"',
    "DEF FTA",
    "WARRANT ISSUED",
    "PRIOR CONVICTION ALLEGATION",
    "SENTENCE CONCURRENT",
    "PLEA: NOLO CONTENDERE",
    "CREDIT FOR TIME SERVED",
)
_TARGET_COMMENTS = (
    "TARGET OFFENSE 11359 HS",
    "TARGET OFFENSE 11360(A) HS",
    "CONSP TO COMMIT 11359 HS-POSS MARIJ FOR SALE",
    "TARGET OFFENSE 11351 HS",
    "TARGET OFFENSE 11378 HS",
)
#: Comment column table: none, generic, conspiracy targets, then each offense text (the
#: charge itself when OFFENSE_DESCR says SEE COMMENT FOR CHARGE or is blank).
_COMMENT_TABLE: tuple[str, ...] = (
    "",
    *(_q(c) for c in _GENERIC_COMMENTS),
    *(_q(c) for c in _TARGET_COMMENTS),
    *(_q(o.text) for o in _CATALOG),
)
_C_GENERIC0 = 1
_C_TARGET0 = 1 + len(_GENERIC_COMMENTS)
_C_OFFENSE0 = _C_TARGET0 + len(_TARGET_COMMENTS)

# --------------------------------------------------------------------------------------------
# People tables. Latin-1 output swaps in accented spellings (same positions, so the random
# draws do not change with the encoding).
# --------------------------------------------------------------------------------------------

_LAST_NAMES = (
    "SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER", "DAVIS", "RODRIGUEZ",
    "MARTINEZ", "HERNANDEZ", "LOPEZ", "GONZALEZ", "WILSON", "ANDERSON", "THOMAS", "TAYLOR",
    "MOORE", "JACKSON", "MARTIN", "LEE", "PEREZ", "THOMPSON", "WHITE", "HARRIS", "SANCHEZ",
    "CLARK", "RAMIREZ", "LEWIS", "ROBINSON", "WALKER", "YOUNG", "ALLEN", "KING", "WRIGHT",
    "SCOTT", "TORRES", "NGUYEN", "HILL", "FLORES", "GREEN", "ADAMS", "NELSON", "BAKER", "HALL",
    "RIVERA", "CAMPBELL", "MITCHELL", "CARTER", "ROBERTS", "GOMEZ", "PHILLIPS", "EVANS",
    "TURNER", "DIAZ", "PARKER", "CRUZ", "EDWARDS", "COLLINS", "REYES", "STEWART", "MORRIS",
    "MORALES", "MURPHY", "COOK", "ROGERS", "GUTIERREZ", "ORTIZ", "MORGAN", "COOPER",
    "PETERSON", "BAILEY", "REED", "KELLY", "HOWARD", "RAMOS", "KIM", "COX", "WARD",
    "RICHARDSON", "WATSON", "BROOKS", "CHAVEZ", "WOOD", "JAMES", "BENNETT", "GRAY", "MENDOZA",
    "RUIZ", "HUGHES", "PRICE", "ALVAREZ", "CASTILLO", "SANDERS", "PATEL", "MYERS", "LONG",
    "ROSS", "FOSTER", "JIMENEZ", "WASHINGTON", "TRAN", "NGO", "SINGH", "VANG", "XIONG",
    "O'BRIEN", "GARCIA-LOPEZ", "VAN DYKE", "SMITH JR",
    "PENA", "MUNOZ", "NUNEZ", "IBANEZ", "ORDONEZ", "CASTANEDA", "BRISENO", "YANEZ", "PATINO",
    "MONTANO",
)  # fmt: skip
_LATIN_LAST = {
    "PENA": "PEÑA", "MUNOZ": "MUÑOZ", "NUNEZ": "NUÑEZ", "IBANEZ": "IBÁÑEZ",
    "ORDONEZ": "ORDÓÑEZ", "CASTANEDA": "CASTAÑEDA", "BRISENO": "BRISEÑO", "YANEZ": "YÁÑEZ",
    "PATINO": "PATIÑO", "MONTANO": "MONTAÑO",
}  # fmt: skip
_MALE_NAMES = (
    "JAMES", "JOHN", "ROBERT", "MICHAEL", "WILLIAM", "DAVID", "RICHARD", "JOSEPH", "THOMAS",
    "CHARLES", "CHRISTOPHER", "DANIEL", "MATTHEW", "ANTHONY", "MARK", "DONALD", "STEVEN",
    "PAUL", "ANDREW", "JOSHUA", "KENNETH", "KEVIN", "BRIAN", "GEORGE", "TIMOTHY", "RONALD",
    "JASON", "EDWARD", "JEFFREY", "RYAN", "JACOB", "GARY", "NICHOLAS", "ERIC", "JONATHAN",
    "STEPHEN", "LARRY", "JUSTIN", "SCOTT", "BRANDON", "CARLOS", "LUIS", "MIGUEL", "JUAN",
    "JOSE", "JESUS", "RAMON", "RAUL", "ANGEL", "TOU",
)  # fmt: skip
_FEMALE_NAMES = (
    "MARY", "PATRICIA", "JENNIFER", "LINDA", "ELIZABETH", "BARBARA", "SUSAN", "JESSICA",
    "SARAH", "KAREN", "LISA", "NANCY", "BETTY", "SANDRA", "MARGARET", "ASHLEY", "KIMBERLY",
    "EMILY", "DONNA", "MICHELLE", "CAROL", "AMANDA", "MELISSA", "DEBORAH", "STEPHANIE",
    "LAURA", "REBECCA", "SHARON", "CYNTHIA", "ANGELA", "MARIA", "SOFIA", "ROCIO", "GUADALUPE",
    "VERONICA",
)  # fmt: skip
_LATIN_FIRST = {
    "JOSE": "JOSÉ", "JESUS": "JESÚS", "RAMON": "RAMÓN", "RAUL": "RAÚL", "MARIA": "MARÍA",
    "SOFIA": "SOFÍA", "ROCIO": "ROCÍO", "VERONICA": "VERÓNICA",
}  # fmt: skip
_LETTERS = tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_RACES = (("W", "WHITE"), ("B", "BLACK"), ("H", "HISPANIC"), ("A", "OTHER ASIAN"), ("O", "OTHER"))
_RACE_P = np.array([0.38, 0.20, 0.30, 0.05, 0.07])
_EYES = (("BRO", "BROWN"), ("BLU", "BLUE"), ("HAZ", "HAZEL"), ("GRN", "GREEN"), ("BLK", "BLACK"))
_EYE_P = np.array([0.62, 0.16, 0.10, 0.05, 0.07])
_HAIR = (
    ("BLK", "BLACK"), ("BRO", "BROWN"), ("BLN", "BLOND"), ("RED", "RED"), ("GRY", "GRAY"),
    ("BLD", "BALD"),
)  # fmt: skip
_HAIR_P = np.array([0.45, 0.33, 0.10, 0.03, 0.06, 0.03])
_BIRTHPLACES = (
    ("CA", "CALIFORNIA"), ("MX", "MEXICO"), ("TX", "TEXAS"), ("AZ", "ARIZONA"),
    ("NY", "NEW YORK"), ("OR", "OREGON"), ("IL", "ILLINOIS"), ("VN", "VIETNAM"),
)  # fmt: skip
_BIRTHPLACE_P = np.array([0.72, 0.10, 0.05, 0.03, 0.03, 0.03, 0.02, 0.02])

# --------------------------------------------------------------------------------------------
# Malformed rows
# --------------------------------------------------------------------------------------------

#: The defects planted, one per malformed row. Field-count defects break the 95-field rule;
#: the others keep 95 fields but break a key a reader must validate.
MALFORMED_KINDS: tuple[str, ...] = (
    "94 fields: END_OF_REC missing",
    "45 fields: line cut short",
    "96 fields: PRI_NAME not quoted",
    "96 fields: extra trailing field",
    "blank SUBJECT_ID",
    "CNT_ORDER of 9 digits",
    "CNT_ORDER of 13 digits",
    "CNT_ORDER with a letter",
    "STP_EVENT_DATE with a letter O for a zero",
    "STP_EVENT_DATE with month 13",
)
(
    _M_SHORT1,
    _M_SHORT_MANY,
    _M_NAME_UNQUOTED,
    _M_EXTRA,
    _M_BLANK_SUBJECT,
    _M_CNT9,
    _M_CNT13,
    _M_CNT_LETTER,
    _M_DATE_LETTER,
    _M_DATE_MONTH,
) = range(len(MALFORMED_KINDS))
_SHORT_MANY_FIELDS = 45

# --------------------------------------------------------------------------------------------
# Row layout: one entry per DOJ column, a literal (already quoted) or a column of the row frame
# --------------------------------------------------------------------------------------------

_Spec = str | pl.Expr


def _row_specs() -> list[_Spec]:
    """The 95 fields of a row: literal placeholders or the row frame's columns."""
    columns: dict[str, _Spec] = {
        "SUBJECT_ID": pl.col("subject"),
        "CII_NUMBER": pl.col("cii"),
        "PRI_NAME": pl.col("name"),
        "GENDER": pl.col("gender"),
        "PRI_DOB": pl.col("dob"),
        "PRI_SSN": pl.col("ssn"),
        "PRI_CDL": pl.col("cdl"),
        "FBI_NUMBER": pl.col("fbi"),
        "RACE_CODE": pl.col("race_code"),
        "RACE_DESCR": pl.col("race_descr"),
        "EYE_COLOR_CODE": pl.col("eye_code"),
        "EYE_COLOR_DESCR": pl.col("eye_descr"),
        "HAIR_COLOR_CODE": pl.col("hair_code"),
        "HAIR_COLOR_DESCR": pl.col("hair_descr"),
        "HEIGHT": pl.col("height"),
        "WEIGHT": pl.col("weight"),
        "POB_CODE": pl.col("pob_code"),
        "POB_NAME": pl.col("pob_name"),
        "CYC_DATE": pl.col("cyc_date"),
        "STP_EVENT_DATE": pl.col("stp_date"),
        "STP_TYPE_DESCR": pl.col("stp_type"),
        "STP_ORI_CODE": pl.col("ori_code"),
        "STP_ORI_DESCR": pl.col("ori_descr"),
        "STP_ORI_CNTY_CODE": pl.col("cnty_code"),
        "STP_ORI_CNTY_NAME": pl.col("cnty_name"),
        "CNT_ORDER": pl.col("cnt_order"),
        "OFN": pl.col("ofn"),
        "OFFENSE_DESCR": pl.col("offense"),
        "OFFENSE_TOC": pl.col("toc"),
        "DISP_OFFENSE_DESCR": pl.col("disp_offense"),
        "CONV_OFFENSE_DESCR": pl.col("conv_offense"),
        "CONV_OFFENSE_TOC": pl.col("conv_toc"),
        "FE_NUM_CRT_CASE": "",
        "DISP_DESCR": pl.col("disp"),
        "CONV_STAT_DESCR": pl.col("conv_stat"),
        "SENT_LOC_DESCR": pl.col("sent_loc"),
        "SENT_LENGTH": pl.col("sent_length"),
        "SENT_TIME_CODE": pl.col("sent_code"),
        "SENT_TIME_DESCR": pl.col("sent_descr"),
        "CYC_AGE": pl.col("cyc_age"),
        "COMMENT_TEXT": pl.col("comment"),
    }
    return [columns.get(name, PH) for name in DOJ_COLUMNS]


def _join(specs: Sequence[_Spec]) -> pl.Expr:
    """One CSV line from field specs; runs of literals are pre-joined so Polars copies less."""
    pieces: list[pl.Expr] = []
    run: list[str] = []
    for spec in specs:
        if isinstance(spec, str):
            run.append(spec)
            continue
        if run:
            pieces.append(pl.lit(",".join(run)))
            run = []
        pieces.append(spec)
    if run:
        pieces.append(pl.lit(",".join(run)))
    return pl.concat_str(pieces, separator=",")


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _ymd(days: I64) -> I64:
    """Days since 1970 -> YYYYMMDD integers (vectorised calendar arithmetic)."""
    d = days.astype("datetime64[D]")
    month_start = d.astype("datetime64[M]")
    year_start = d.astype("datetime64[Y]")
    year = year_start.astype(np.int64) + 1970
    month = (month_start - year_start.astype("datetime64[M]")).astype(np.int64) + 1
    day = (d - month_start.astype("datetime64[D]")).astype(np.int64) + 1
    return np.asarray(year * 10000 + month * 100 + day, dtype=np.int64)


def _take(table: Sequence[str], index: I64) -> pl.Series:
    """Gather a small string table by an index array (string views: no bytes copied)."""
    return pl.Series(values=list(table), dtype=pl.String).gather(index)


def _num(values: I64, width: int = 0, blank: str = "") -> pl.Series:
    """Integers as text, zero-padded to `width`; negative values become `blank`."""
    s = pl.Series(values=values, dtype=pl.Int64)
    text = s.cast(pl.String)
    if width:
        text = text.str.zfill(width)
    return pl.select(
        pl.when(s >= 0).then(text).otherwise(pl.lit(blank, dtype=pl.String))
    ).to_series()


def _segments(sizes: I64) -> tuple[I64, I64]:
    """For groups of the given sizes laid end to end: the group of each element and its
    0-based position inside the group (the numpy repeat/cumsum expansion)."""
    starts = np.cumsum(sizes) - sizes
    group = np.repeat(np.arange(sizes.size, dtype=np.int64), sizes)
    position = np.arange(group.size, dtype=np.int64) - starts[group]
    return group, position


@dataclass(frozen=True)
class _Context:
    """What stays fixed over the batches of one file."""

    counties: tuple[str, ...]  # index 0 = the home county
    ori_codes: tuple[str, ...]  # agency * n_counties + county
    ori_descrs: tuple[str, ...]
    county_codes: tuple[str, ...]
    last_names: tuple[str, ...]
    first_names: tuple[str, ...]  # male names, then female names
    n_male_names: int


def _context(county: str, accents: bool) -> _Context:
    """Tables that depend on the home county and the encoding."""
    home = county.strip().upper()
    others = tuple(c for c in _OTHER_COUNTIES if c != home)[:_N_OTHER]
    counties = (home, *others)
    codes = tuple(_COUNTY_CODES.get(c, "99") for c in counties)
    ori_codes = tuple(f"CA0{code}{suffix}" for _, suffix in _AGENCIES for code in codes)
    ori_descrs = tuple(f"{prefix} {name}" for prefix, _ in _AGENCIES for name in counties)
    last = tuple(_LATIN_LAST.get(n, n) if accents else n for n in _LAST_NAMES)
    first = tuple(_LATIN_FIRST.get(n, n) if accents else n for n in (*_MALE_NAMES, *_FEMALE_NAMES))
    return _Context(counties, ori_codes, ori_descrs, codes, last, first, len(_MALE_NAMES))


# --------------------------------------------------------------------------------------------
# One batch of people -> one frame of rows (text columns, one per varying field)
# --------------------------------------------------------------------------------------------


def _people_frame(
    rng: np.random.Generator, first_person: int, male: Bool, dob: I64, ctx: _Context
) -> pl.DataFrame:
    """Identity and description of a batch of people, as text columns (one row per person)."""
    n = male.size
    person = first_person + np.arange(n, dtype=np.int64)
    # Unique ids: an affine map modulo a range is a bijection when the factor is coprime.
    subject = 10_000_000 + (person * 7_919_981 + 1_234_567) % 90_000_000
    cii = (person * 3_101_166_937 + 417_001_233) % 10_000_000_000
    first = np.where(
        male,
        rng.integers(0, ctx.n_male_names, n),
        ctx.n_male_names + rng.integers(0, len(ctx.first_names) - ctx.n_male_names, n),
    )
    last = rng.integers(0, len(ctx.last_names), n)
    initial = rng.integers(0, len(_LETTERS), n)
    has_initial = rng.random(n) < 0.8
    height = np.clip(np.round(rng.normal(np.where(male, 69.5, 64.5), 3.0)), 58, 80).astype(np.int64)
    weight = np.clip(np.round(rng.normal(np.where(male, 185, 150), 30)), 100, 350)
    ssn = np.where(rng.random(n) < 0.75, 900_000_000 + rng.integers(0, 99_999_999, n), -1)
    cdl = np.where(rng.random(n) < 0.7, rng.integers(0, 10_000_000, n), -1)
    fbi = np.where(rng.random(n) < 0.6, rng.integers(100_000, 999_999, n), -1)
    frame = pl.DataFrame(
        {
            "subject": _num(subject),
            "cii": _num(cii, 10),
            "last": _take(ctx.last_names, last),
            "first": _take(ctx.first_names, first),
            "initial": _take(_LETTERS, initial),
            "has_initial": has_initial,
            "gender": _take(("F", "M"), male.astype(np.int64)),
            "dob": _num(_ymd(dob)),
            "ssn": _num(ssn, blank=PH),
            "cdl_letter": _take(_LETTERS, rng.integers(0, 26, n)),
            "cdl": _num(cdl, 7, blank=""),
            "fbi": _num(fbi, blank=""),
            "fbi_letters": _take(
                [a + b for a in _LETTERS[:8] for b in _LETTERS[:8]], rng.integers(0, 64, n)
            ),
            "fbi_digit": _num(rng.integers(0, 10, n)),
            "race": rng.choice(len(_RACES), n, p=_RACE_P),
            "eye": rng.choice(len(_EYES), n, p=_EYE_P),
            "hair": rng.choice(len(_HAIR), n, p=_HAIR_P),
            "height": _num((height // 12) * 100 + height % 12),
            "weight": _num(weight.astype(np.int64)),
            "pob": rng.choice(len(_BIRTHPLACES), n, p=_BIRTHPLACE_P),
        }
    )
    return frame.select(
        "subject",
        "cii",
        pl.concat_str(
            pl.lit('"'),
            pl.col("last"),
            pl.lit(","),
            pl.col("first"),
            pl.when(pl.col("has_initial"))
            .then(pl.lit(" ") + pl.col("initial"))
            .otherwise(pl.lit("")),
            pl.lit('"'),
        ).alias("name"),
        "gender",
        "dob",
        "ssn",
        pl.when(pl.col("cdl") == "")
        .then(pl.lit(PH))
        .otherwise(pl.col("cdl_letter") + pl.col("cdl"))
        .alias("cdl"),
        pl.when(pl.col("fbi") == "")
        .then(pl.lit(PH))
        .otherwise(pl.col("fbi") + pl.col("fbi_letters") + pl.col("fbi_digit"))
        .alias("fbi"),
        pl.col("race")
        .replace_strict(range(len(_RACES)), [c for c, _ in _RACES])
        .alias("race_code"),
        pl.col("race")
        .replace_strict(range(len(_RACES)), [d for _, d in _RACES])
        .alias("race_descr"),
        pl.col("eye").replace_strict(range(len(_EYES)), [c for c, _ in _EYES]).alias("eye_code"),
        pl.col("eye").replace_strict(range(len(_EYES)), [d for _, d in _EYES]).alias("eye_descr"),
        pl.col("hair").replace_strict(range(len(_HAIR)), [c for c, _ in _HAIR]).alias("hair_code"),
        pl.col("hair").replace_strict(range(len(_HAIR)), [d for _, d in _HAIR]).alias("hair_descr"),
        "height",
        "weight",
        pl.col("pob")
        .replace_strict(range(len(_BIRTHPLACES)), [c for c, _ in _BIRTHPLACES])
        .alias("pob_code"),
        pl.col("pob")
        .replace_strict(range(len(_BIRTHPLACES)), [d for _, d in _BIRTHPLACES])
        .alias("pob_name"),
    )


def _case_numbers(rng: np.random.Generator, cyc_ymd: I64) -> pl.Series:
    """Court case numbers, one per cycle, in the shapes seen in extracts."""
    n = cyc_ymd.size
    kind = rng.choice(5, n, p=[0.45, 0.25, 0.08, 0.17, 0.05])
    frame = pl.DataFrame(
        {
            "kind": kind,
            "plain": _num(rng.integers(10_000, 99_999_999, n)),
            "yy": _num((cyc_ymd // 10000) % 100, 2),
            "seq": _num(rng.integers(0, 1_000_000, n), 6),
            "letter": _take(_LETTERS[:6], rng.integers(0, 6, n)),
        }
    )
    return frame.select(
        pl.when(pl.col("kind") == 0)
        .then(pl.col("plain"))
        .when(pl.col("kind") == 1)
        .then(pl.concat_str("yy", pl.lit(" "), "seq", pl.lit("-"), "letter"))
        .when(pl.col("kind") == 2)
        .then(pl.lit("NULL  "))
        .when(pl.col("kind") == 3)
        .then(pl.concat_str("yy", pl.lit("F0"), pl.col("seq").str.slice(2)))
        .otherwise(pl.lit(""))
        .alias("ofn")
    ).to_series()


def _batch(
    rng: np.random.Generator,
    first_person: int,
    limit: int,
    ctx: _Context,
    cannabis_share: float = 1.0,
) -> tuple[pl.DataFrame, int]:
    """Draw one batch of people with whole histories and lay them out as rows.

    Returns the row frame (at most `limit` rows, one text column per varying field) and the
    number of people with at least one of those rows. The hierarchy person -> cycle -> count
    -> step instance -> sentence part is expanded level by level with repeat/cumsum.
    `cannabis_share` below 1 (a whole repository) leaves the other people without any
    cannabis record (nor a look-alike or conspiracy charge that could name one).
    """
    n = _PEOPLE_PER_BATCH
    # ---- people: sex, birth date, how long a history, deceased
    male = rng.random(n) < 0.82
    dob = np.clip(
        rng.normal(_day("1966-01-01"), 12.5 * 365.25, n), _day("1935-01-01"), _day("2003-12-31")
    ).astype(np.int64)
    dob_ymd = _ymd(dob)
    dead = rng.random(n) < np.where(dob < _DAY_1955, 0.05, 0.012)
    n_regular = 1 + np.minimum(rng.poisson(rng.gamma(1.3, 4.5, n)), 79).astype(np.int64)
    n_cycles = n_regular + dead.astype(np.int64)
    start = np.maximum(dob + 6209 + rng.exponential(900.0, n).astype(np.int64), 0)
    start = np.minimum(start, _LAST_DAY - 365)
    span = np.maximum(np.minimum(dob + 26298, _LAST_DAY) - start, 30)

    # ---- cycles: chronological per person; the anchor is the person's cannabis conviction
    cyc_person, cyc_pos = _segments(n_cycles)
    c = cyc_person.size
    u = np.sort(cyc_person + rng.random(c) ** 1.4) - cyc_person
    cyc_day = np.minimum(start[cyc_person] + (u * span[cyc_person]).astype(np.int64), _LAST_DAY)
    cyc_no = cyc_pos + 1
    is_death = dead[cyc_person] & (cyc_no == n_cycles[cyc_person])
    regular = ~is_death
    anchor_no = 1 + (rng.random(n) * n_regular).astype(np.int64)
    is_anchor = cyc_no == anchor_no[cyc_person]
    county = np.where(
        is_anchor | (rng.random(c) < _HOME_SHARE), 0, 1 + rng.integers(0, _N_OTHER, c)
    )
    theme = np.where(is_anchor, CANNABIS, rng.choice(_N_CATEGORIES, c, p=_THEME_P))
    n_counts = np.where(regular, 1 + np.minimum(rng.poisson(0.75, c), 7), 0).astype(np.int64)
    has_court = regular & (is_anchor | (rng.random(c) < 0.84))
    arrest_disp = np.where(
        regular & ~has_court & (rng.random(c) < 0.5),
        _DISP_ARREST0 + rng.integers(0, len(_ARREST_DISP), c),
        0,
    )
    court_lag = np.minimum(rng.exponential(70.0, c), 1500).astype(np.int64)
    court_day = np.minimum(cyc_day + court_lag, _LAST_DAY)
    arrest_day = np.minimum(cyc_day + (rng.random(c) < 0.05), _LAST_DAY)
    court_step = np.where(rng.random(c) < 0.03, _S_COURT, _S_COURT_ACTION)
    court_agency = np.where((cyc_day < _DAY_1998) & (rng.random(c) < 0.6), _A_MC, _A_SC)
    arrest_agency = rng.choice(np.array([_A_SO, _A_PD, _A_HP]), c, p=[0.45, 0.45, 0.10])
    cyc_ymd = _ymd(cyc_day)
    r = rng.random(c)
    # A few unknown cycle dates: blank or YYYY0000; a few court dates YYYY0000.
    cyc_shown = np.where(r < 0.003, -1, np.where(r < 0.006, cyc_ymd // 10000 * 10000, cyc_ymd))
    court_ymd = _ymd(court_day)
    court_shown = np.where(rng.random(c) < 0.004, court_ymd // 10000 * 10000, court_ymd)
    age = (cyc_ymd - dob_ymd[cyc_person]) // 10000
    cyc_age = np.where((rng.random(c) < 0.35) & (cyc_shown >= 0) & regular, age, -1)
    ofn = _case_numbers(rng, cyc_ymd)

    # ---- counts: offense, type of charge, disposition, plea, level, sentence, comment
    cnt_cycle, cnt_pos = _segments(n_counts)
    k = cnt_cycle.size
    cnt_day = cyc_day[cnt_cycle]
    category = np.where(
        rng.random(k) < _THEME_STICK,
        theme[cnt_cycle],
        rng.choice(_N_CATEGORIES, k, p=_THEME_P),
    )
    forced = is_anchor[cnt_cycle] & (cnt_pos == 0)
    if cannabis_share < 1.0:
        # Drawn only for a repository, so that every other file stays as it was.
        without = (rng.random(n) >= cannabis_share)[cyc_person[cnt_cycle]]
        forced &= ~without
        near = np.isin(category, (CANNABIS, LOOKALIKE, CONSPIRACY))
        category = np.where(without & near, DRUG, category)
    category = np.where(forced, CANNABIS, category)
    off = np.minimum(
        np.searchsorted(_CAT_KEY, category + rng.random(k), side="right"), _CAT_LAST[category]
    )
    former = _CAT_FORMER[off]
    off = np.where((cnt_day < _DAY_1973) & (former >= 0), former, off)
    toc = _CAT_TOC[off]
    toc = np.where(toc == 3, np.where(rng.random(k) < 0.55, 0, 1), toc)
    toc = np.where(_CAT_INF2011[off] & (cnt_day >= _DAY_2011), 2, toc)
    disp = rng.choice(len(_COURT_DISP), k, p=_COURT_DISP_P)
    disp = np.where(forced, rng.choice(4, k, p=[0.8, 0.1, 0.07, 0.03]), disp)
    in_court = has_court[cnt_cycle]
    convicted = in_court & ((disp <= _D_PRISON) | (disp == _D_SET_ASIDE))
    plea_off = np.where(
        _CAT_CANNABIS[off],
        _PLEA_FROM_CANNABIS[rng.integers(0, _PLEA_FROM_CANNABIS.size, k)],
        _PLEA_FROM_OTHER[rng.integers(0, _PLEA_FROM_OTHER.size, k)],
    )
    plea = (
        convicted & (rng.random(k) < 0.07) & (plea_off != off) & (~forced | _CAT_CANNABIS[plea_off])
    )
    plea_toc = _CAT_TOC[plea_off]
    plea_toc = np.where(plea_toc == 3, 1, plea_toc)
    basis = np.where(plea, plea_toc, toc)
    # A prison disposition only on felony charges, and then the conviction stays a felony.
    disp = np.where((disp == _D_PRISON) & (basis != 0), 0, disp)
    r = rng.random(k)
    level = np.where(
        basis == 0, np.where(r < 0.78, 0, 1), np.where(basis == 1, np.where(r < 0.97, 1, 2), 2)
    )
    level = np.where(disp == _D_PRISON, 0, level)
    stat_blank = rng.random(k) < 0.04
    show_disp_offense = plea & (rng.random(k) < 0.5)
    n_parts = np.where(convicted, rng.choice(4, k, p=[0.3, 0.35, 0.25, 0.1]), 0)
    n_parts = np.where(level == 2, np.minimum(n_parts, 1), n_parts)
    prison = (level == 0) & ((rng.random(k) < 0.25) | (disp == _D_PRISON) | _CAT_SERIOUS[off])
    first_kind = np.where(
        level == 2,
        _FINE,
        np.where(prison, _PRISON, np.where(rng.random(k) < 0.1, _PROBATION, _JAIL)),
    )
    r = rng.random(k)
    see = np.where(r < 0.008, 1, np.where(r < 0.012, 2, 0))
    text = np.where(see == 1, _T_SEE, np.where(see == 2, _T_EMPTY, off))
    r = rng.random(k)
    comment = np.where(
        see > 0,
        _C_OFFENSE0 + off,
        np.where(
            _CAT_CONSPIRACY_182[off] & (r < 0.7),
            _C_TARGET0 + rng.integers(0, len(_TARGET_COMMENTS), k),
            np.where(r > 0.94, _C_GENERIC0 + rng.integers(0, len(_GENERIC_COMMENTS), k), 0),
        ),
    )

    # ---- extra steps per cycle: probation/custody, registration
    conv_cycle = np.bincount(cnt_cycle, weights=convicted.astype(np.float64), minlength=c) > 0
    sex_cycle = (
        np.bincount(
            cnt_cycle,
            weights=(convicted & _CAT_REGISTRABLE[off]).astype(np.float64),
            minlength=c,
        )
        > 0
    )
    reg290 = sex_cycle | (regular & (rng.random(c) < 0.002))
    reg11590 = ~reg290 & regular & (rng.random(c) < 0.004)
    has_reg = reg290 | reg11590
    reg_text = np.where(reg290, _T_REG290 + rng.integers(0, len(_REG_290_TEXTS), c), _T_REG11590)
    has_extra = conv_cycle & (rng.random(c) < 0.08)
    extra_kind = rng.choice(3, c, p=[0.5, 0.35, 0.15])
    extra_step = _S_PROBATION + extra_kind
    extra_agency = np.array([_A_PR, _A_SO, _A_PD])[extra_kind]
    extra_day = np.minimum(court_day + 1 + rng.integers(0, 60, c), _LAST_DAY)
    reg_day = np.minimum(
        np.where(has_court, court_day, cyc_day) + 10 + rng.integers(0, 80, c), _LAST_DAY
    )
    first_count = np.cumsum(n_counts) - n_counts

    # ---- step instances (kind 0 arrest, 1 court, 2 extra, 3 registration, 4 deceased)
    court_counts = np.flatnonzero(in_court)
    extra_c = np.flatnonzero(has_extra)
    reg_c = np.flatnonzero(has_reg)
    death_c = np.flatnonzero(is_death)
    sizes = (k, court_counts.size, extra_c.size, reg_c.size, death_c.size)
    kind = np.repeat(np.arange(5, dtype=np.int64), sizes)
    cycle = np.concatenate([cnt_cycle, cnt_cycle[court_counts], extra_c, reg_c, death_c])
    step = np.concatenate(
        [
            np.ones(k, np.int64),
            np.full(court_counts.size, 2, np.int64),
            np.full(extra_c.size, 3, np.int64),
            2 + has_court[reg_c] + has_extra[reg_c],
            np.ones(death_c.size, np.int64),
        ]
    )
    none = np.ones(extra_c.size + reg_c.size + death_c.size, np.int64)
    count_no = np.concatenate([cnt_pos + 1, cnt_pos[court_counts] + 1, none])
    count = np.concatenate(
        [
            np.arange(k, dtype=np.int64),
            court_counts,
            first_count[extra_c],
            np.full(reg_c.size + death_c.size, -1, np.int64),
        ]
    )
    n_rows = np.concatenate(
        [np.ones(k, np.int64), np.maximum(n_parts[court_counts], 1), none]
    ).astype(np.int64)
    order = np.lexsort((count_no, step, cycle))
    kind, cycle, step, count_no, count, n_rows = (
        a[order] for a in (kind, cycle, step, count_no, count, n_rows)
    )
    inst, part = _segments(n_rows)
    total = inst.size
    # Sentence lengths are drawn for the whole batch before cutting, so a shorter file is a
    # prefix of a longer one.
    draws = (
        rng.random(total),
        np.minimum(rng.exponential(45.0, total), 364).astype(np.int64),
        rng.integers(0, 12, total),
        rng.integers(0, 20, total),
        rng.poisson(2.5, total),
        rng.integers(0, 5, total),
    )
    m = min(limit, total)
    inst, part = inst[:m], part[:m]
    u1, jail_days, small, serious_years, years, pick = (d[:m] for d in draws)

    # ---- rows
    rk = kind[inst]
    rc = cycle[inst]
    rcount = count[inst]
    ci = np.maximum(rcount, 0)
    rp = cyc_person[rc]
    is_court = rk == 1
    dates = np.stack([_ymd(arrest_day), court_shown, _ymd(extra_day), _ymd(reg_day), cyc_ymd])
    steps = np.stack(
        [
            np.zeros(c, np.int64),
            court_step,
            extra_step,
            np.full(c, _S_REGISTRATION),
            np.full(c, _S_DECEASED),
        ]
    )
    agencies = np.stack(
        [arrest_agency, court_agency, extra_agency, np.full(c, _A_SO), np.full(c, _A_CO)]
    )
    ori = agencies[rk, rc] * len(ctx.counties) + county[rc]
    cnt_order = cyc_no[rc] * 1_000_000_000 + step[inst] * 1_000_000 + count_no[inst] * 1000
    offense = np.where(rk <= 2, text[ci], np.where(rk == 3, reg_text[rc], _T_EMPTY))
    has_plea = is_court & plea[ci]
    sentenced = is_court & (part < n_parts[ci])
    loc = np.where(sentenced, _PART_KIND[first_kind[ci], np.minimum(part, 2)], 0)
    unit = np.select(
        [loc == _JAIL, loc == _PRISON, loc == _PROBATION],
        [np.where(u1 < 0.8, 1, 2), np.where(u1 < 0.75, 3, 2), np.where(u1 < 0.6, 2, 3)],
        0,
    )
    serious = _CAT_SERIOUS[off[ci]]
    length = np.select(
        [
            (loc == _JAIL) & (unit == 1),
            (loc == _JAIL) & (unit == 2),
            (loc == _PRISON) & (unit == 3),
            (loc == _PRISON) & (unit == 2),
            (loc == _PROBATION) & (unit == 2),
            (loc == _PROBATION) & (unit == 3),
        ],
        [
            1 + jail_days,
            1 + small,
            np.where(serious, 7 + serious_years, 1 + years),
            np.array([16, 24, 32, 36, 48])[pick],
            np.array([12, 18, 24, 36, 60])[pick],
            1 + pick,
        ],
        -1,
    )

    people = _people_frame(rng, first_person, male, dob, ctx)
    cycles = pl.DataFrame(
        {
            "cyc_date": _num(cyc_shown),
            "ofn": ofn,
            "cyc_age": _num(cyc_age, blank=PH),
            "cnty_code": _take(ctx.county_codes, county),
            "cnty_name": _take(ctx.counties, county),
        }
    )
    rp_s = pl.Series(rp)
    rc_s = pl.Series(rc)
    frame = pl.concat(
        [
            people.select(pl.all().gather(rp_s)),
            cycles.select(pl.all().gather(rc_s)),
            pl.DataFrame(
                {
                    "is_court": is_court,
                    "stp_date": _num(dates[rk, rc]),
                    "stp_type": _take(_STEP_TABLE, steps[rk, rc]),
                    "ori_code": _take(ctx.ori_codes, ori),
                    "ori_descr": _take(ctx.ori_descrs, ori),
                    "cnt_order": _num(cnt_order, 12),
                    "offense": _take(_TEXTS_Q, offense),
                    "toc": _take(_TOC_TABLE, np.where(rk <= 2, toc[ci], 3)),
                    "disp_offense": _take(
                        _TEXTS_Q, np.where(is_court & show_disp_offense[ci], plea_off[ci], _T_PH)
                    ),
                    "conv_offense": _take(_TEXTS_Q, np.where(has_plea, plea_off[ci], _T_PH)),
                    "conv_toc": _take(_TOC_TABLE, np.where(has_plea, plea_toc[ci], 4)),
                    "disp": _take(
                        _DISP_TABLE,
                        np.where(is_court, disp[ci] + 1, np.where(rk == 0, arrest_disp[rc], 0)),
                    ),
                    "conv_stat": _take(
                        _LEVEL_TABLE,
                        np.where(is_court & convicted[ci] & ~stat_blank[ci], level[ci] + 1, 0),
                    ),
                    "sent_loc": _take(_SENT_LOC_TABLE, loc),
                    "sent_length": _num(length),
                    "sent_code": _take(_UNIT_CODE_TABLE, unit),
                    "sent_descr": _take(_UNIT_DESCR_TABLE, unit),
                    "comment": _take(_COMMENT_TABLE, np.where(rk <= 2, comment[ci], 0)),
                }
            ),
        ],
        how="horizontal",
    ).with_columns(
        pl.when(pl.col("is_court")).then(pl.col("ofn")).otherwise(pl.lit("")).alias("ofn")
    )
    people_in_rows = int(rp[-1]) + 1 if m else 0
    return frame, people_in_rows


# --------------------------------------------------------------------------------------------
# Malformed rows and writing
# --------------------------------------------------------------------------------------------


def _malformed_plan(rows: int, share: float, seed: int) -> tuple[I64, I64]:
    """Positions (0-based data rows) and kinds of the malformed rows.

    One position in each of `round(rows * share)` equal strata, so the defects are spread over
    the whole file (a reader must meet them in every chunk, not just at the start).
    """
    count = round(rows * share)
    if count <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2, 0]))
    stride = rows / count
    positions = (np.arange(count) * stride + rng.random(count) * stride).astype(np.int64)
    positions = np.minimum(positions, rows - 1)
    kinds = rng.integers(0, len(MALFORMED_KINDS), count)
    return positions, kinds


def _malformed_lines(frame: pl.DataFrame, kinds: I64, specs: list[_Spec]) -> pl.Series:
    """Lines for the selected rows, each broken in exactly one way (see MALFORMED_KINDS)."""
    kind = pl.col("malformed_kind")
    broken = frame.with_columns(malformed_kind=pl.Series(kinds)).with_columns(
        pl.when(kind == _M_BLANK_SUBJECT)
        .then(pl.lit(""))
        .otherwise(pl.col("subject"))
        .alias("subject"),
        pl.when(kind == _M_NAME_UNQUOTED)
        .then(pl.col("name").str.strip_chars('"'))
        .otherwise(pl.col("name"))
        .alias("name"),
        pl.when(kind == _M_CNT9)
        .then(pl.col("cnt_order").str.slice(0, 9))
        .when(kind == _M_CNT13)
        .then(pl.col("cnt_order") + pl.lit("0"))
        .when(kind == _M_CNT_LETTER)
        .then(
            pl.concat_str(
                pl.col("cnt_order").str.slice(0, 5), pl.lit("O"), pl.col("cnt_order").str.slice(6)
            )
        )
        .otherwise(pl.col("cnt_order"))
        .alias("cnt_order"),
        pl.when(kind == _M_DATE_LETTER)
        .then(
            pl.concat_str(
                pl.col("stp_date").str.slice(0, 2), pl.lit("O"), pl.col("stp_date").str.slice(3)
            )
        )
        .when(kind == _M_DATE_MONTH)
        .then(
            # Month 13; a day 00 would read as the "unknown" marker YYYYMM00, so it becomes 45.
            pl.concat_str(
                pl.col("stp_date").str.slice(0, 4),
                pl.lit("13"),
                pl.col("stp_date").str.slice(6).replace("00", "45"),
            )
        )
        .otherwise(pl.col("stp_date"))
        .alias("stp_date"),
    )
    return broken.select(
        pl.when(kind == _M_SHORT1)
        .then(_join(specs[:-1]))
        .when(kind == _M_SHORT_MANY)
        .then(_join(specs[:_SHORT_MANY_FIELDS]))
        .when(kind == _M_EXTRA)
        .then(_join([*specs, PH]))
        .otherwise(_join(specs))
        .alias("line")
    ).to_series()


def _open(path: Path) -> io.BufferedIOBase:
    """A binary sink; gzip (level 6, no name or time in the header, for reproducibility)."""
    raw = path.open("wb")
    if path.name.endswith(".gz"):
        return gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=raw, mtime=0)
    return raw


def write_synthetic(
    path: Path,
    rows: int,
    county: str = "SACRAMENTO",
    seed: int = 0,
    malformed_share: float = 0.002,
    header: bool = True,
    crlf: bool = False,
    encoding: str = "utf-8",
    repository: bool = False,
) -> SynthStats:
    """Write a synthetic DOJ bulk file of exactly `rows` data rows (gzip when path ends in .gz).

    `county` is the home county of the delivery (most cycles, and every person's anchor
    cannabis conviction, are there); `ALL` makes a statewide file, each batch of 1,024 people
    at home in the next of the 58 counties in turn. `malformed_share` of the rows carry one
    planted defect each. `repository` makes a file like DOJ's whole repository: one person in
    ten has a cannabis conviction, the others none. Any encoding other than UTF-8/ASCII also
    spells some names with accents (PEÑA, MUÑOZ), as Latin-1 deliveries do, so readers meet
    bytes that are not UTF-8.
    """
    if rows < 0:
        raise ValueError("rows must be >= 0")
    if seed < 0:
        raise ValueError("seed must be >= 0")
    if not 0.0 <= malformed_share <= 1.0:
        raise ValueError("malformed_share must be within [0, 1]")
    if not county.strip():
        raise ValueError("county must not be blank")
    codec = codecs.lookup(encoding).name
    accents = codec not in ("utf-8", "ascii")
    # A statewide file: each batch of people has its own home county, in turn.
    homes = list(_COUNTY_CODES) if county.strip().upper() == "ALL" else [county]
    contexts = [_context(home, accents) for home in homes]
    eol = "\r\n" if crlf else "\n"
    specs = _row_specs()
    if len(specs) != DOJ_FIELD_COUNT:
        raise AssertionError("row layout out of step with DOJ_COLUMNS")
    positions, kinds = _malformed_plan(rows, malformed_share, seed)
    path = Path(path)
    written = 0
    people = 0
    batch = 0
    with _open(path) as sink:
        if header:
            sink.write((",".join(DOJ_COLUMNS) + eol).encode(encoding))
        while written < rows:
            rng = np.random.default_rng(np.random.SeedSequence([seed, 1, batch]))
            ctx = contexts[batch % len(contexts)]
            frame, batch_people = _batch(
                rng, batch * _PEOPLE_PER_BATCH, rows - written, ctx, _REPOSITORY_SHARE
                if repository else 1.0
            )  # fmt: skip
            lines = frame.select(_join(specs).alias("line")).to_series()
            here = (positions >= written) & (positions < written + frame.height)
            if here.any():
                local = positions[here] - written
                broken = _malformed_lines(frame[local], kinds[here], specs)
                lines = lines.scatter(local, broken)
            sink.write((lines.str.join(eol).item() + eol).encode(encoding))
            people = batch * _PEOPLE_PER_BATCH + batch_people
            written += frame.height
            batch += 1
    return SynthStats(
        rows=written,
        people=people,
        malformed_rows=int(positions.size),
        bytes_written=path.stat().st_size,
    )
