"""Synthetic RAP sheets and court case-system exports, made from a DOJ bulk file's people.

The RAP-sheet reader and the court-export reader need inputs that hold the same histories as a
DOJ file, so that a test can read one person both ways and ask for the same decisions. So these
are not drawn anew: they are the rows of a (synthetic) DOJ file printed in the other layouts.

- `render_rapsheet` prints one person's rows as the DOJ's record text (personal block, cycles,
  events, counts, sentences, PC 1203.4 set-asides as dated updates);
- `write_pdf` sets that text on letter pages in a typewriter face (with page headers, as real
  sheets have), and `rasterise_pdf` turns such a PDF into page images only, as a scan is, for
  the OCR path;
- `add_noise` puts the scanning faults of formats/rap-sheet.md into a sheet (letters for digits
  in dates, stray characters, a page header in the middle of a cycle) for fixtures;
- `write_court_export` writes a court's case list in its own columns (with the mapping that
  reads it) holding some of the DOJ file's court cases, cases the DOJ file lacks for people it
  has, new people, and people who must not be merged with anyone (same name, another birth
  date).

Nothing here knows eligibility: decisions come from the engine only.
"""

from __future__ import annotations

import csv
import random
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from clearance.records.schema import DOJ_COLUMNS

#: A DOJ value that means nothing once padding is stripped.
_EMPTY = ("", "-", "NULL")

_HEADERS = {
    "ARREST/DETAINED/CITED": "ARR/DET/CITE:",
    "COURT ACTION": "COURT:",
    "COURT": "COURT:",
    "PROBATION": "PROBATION:",
    "CUSTODY": "CUSTODY:JAIL",
    "SUPPLEMENTAL ARR": "SUPPLEMENTAL ARR:",
    "REGISTRATION": "REGISTRATION:",
    "DECEASED": "DECEASED:",
}
_UNITS = {"D": "DAYS", "M": "MONTHS", "Y": "YEARS"}
_SET_ASIDE = "CONV SET ASIDE & DISM PER 1203.4 PC"


def doj_rows(path: Path) -> pl.DataFrame:
    """Every field of a DOJ file as text, padding stripped and placeholders null."""
    frame = pl.read_csv(
        path,
        has_header=False,
        infer_schema=False,
        new_columns=list(DOJ_COLUMNS),
        truncate_ragged_lines=True,
        encoding="utf8-lossy",
    )
    frame = frame.filter(pl.col("RECORD_ID") != "RECORD_ID")
    return frame.with_columns(
        pl.when(pl.col(c).str.strip_chars().is_in(_EMPTY))
        .then(None)
        .otherwise(pl.col(c).str.strip_chars())
        .alias(c)
        for c in DOJ_COLUMNS
    ).filter(pl.col("CNT_ORDER").str.contains(r"^[0-9]{12}$").fill_null(False))


def _value(row: dict[str, str | None], *names: str) -> str | None:
    return next((row[n] for n in names if row.get(n)), None)


def render_rapsheet(rows: pl.DataFrame) -> str:
    """One person's DOJ rows as RAP-sheet text (the layout of formats/rap-sheet.md)."""
    first = rows.row(0, named=True)
    name = (first["PRI_NAME"] or "UNKNOWN,PERSON").replace(",", ", ")
    lines = [
        "ID/REQUEST: SYNTHETIC RECORD FOR TESTING - NO REAL PERSON",
        "CALIFORNIA DEPARTMENT OF JUSTICE - RECORD REVIEW",
        "",
        f"CII/{first['CII_NUMBER'] or ''}",
        f"DOB/{first['PRI_DOB'] or '00000000'}    SEX/{first['GENDER'] or 'U'}    "
        f"RAC/{first['RACE_DESCR'] or 'UNKNOWN'}",
        f"NAM/01 {name}",
        "",
    ]
    ordered = rows.with_columns(pl.col("CNT_ORDER").alias("_order")).sort(
        "_order", maintain_order=True
    )
    for _, cycle in ordered.group_by(pl.col("_order").str.slice(0, 3), maintain_order=True):
        lines.append("* * * *")
        for index, (_, step) in enumerate(
            cycle.group_by(pl.col("_order").str.slice(0, 6), maintain_order=True)
        ):
            if index:
                lines.append("- - - -")
            lines.extend(_render_step(step))
    lines.append("* * * END OF MESSAGE * * *")
    return "\n".join(lines) + "\n"


def _render_step(step: pl.DataFrame) -> list[str]:
    head = step.row(0, named=True)
    kind = _HEADERS.get((head["STP_TYPE_DESCR"] or "").upper(), "COURT:")
    agency = head["STP_ORI_DESCR"] or f"CASC {head['STP_ORI_CNTY_NAME'] or 'UNKNOWN'}"
    lines = [f"{kind:<22}NAM:01", f"{head['STP_EVENT_DATE'] or '00000000'}  {agency}", ""]
    counts = [group for _, group in step.group_by("_order", maintain_order=True)]
    set_aside = [(c.row(0, named=True)["DISP_DESCR"] or "").upper() == _SET_ASIDE for c in counts]
    convicted = [
        (c.row(0, named=True)["DISP_DESCR"] or "").upper().startswith("CONVICTED") for c in counts
    ]
    # Set aside case-wide (a PC 1203.4 relief), it is printed as a dated update after the last
    # count; set aside for some counts only, on those counts.
    case_wide = any(set_aside) and not any(convicted)
    for count in counts:
        row = count.row(0, named=True)
        number = int(row["_order"][6:9])
        case = _value(row, "OFN", "FE_NUM_CRT_CASE")
        lines.append(f"CNT:{number:02d}" + (f"     #{case}" if case else ""))
        offense = _value(row, "CONV_OFFENSE_DESCR", "DISP_OFFENSE_DESCR", "OFFENSE_DESCR")
        toc = (
            row["CONV_OFFENSE_TOC"]
            if row["CONV_OFFENSE_DESCR"]
            else row["DISP_OFFENSE_TOC"]
            if row["DISP_OFFENSE_DESCR"]
            else row["OFFENSE_TOC"]
        )
        if offense is None or offense.upper().startswith("SEE COMMENT"):
            lines.append("  SEE COMMENT FOR CHARGE")
            if row["COMMENT_TEXT"]:
                lines.append(f"   COM: CHRG {row['COMMENT_TEXT']}")
        else:
            lines.append(f"  {offense}")
        if toc:
            lines.append(f"   TOC:{toc}")
        disp = row["DISP_DESCR"]
        if disp:
            shown = "CONVICTED" if case_wide and disp.upper() == _SET_ASIDE else disp
            lines.append(f"*DISPO:{shown}")
        if row["CONV_STAT_DESCR"]:
            lines.append(f"   CONV STATUS:{row['CONV_STAT_DESCR']}")
        parts = _sentence(count)
        if parts:
            lines.append(f"   SEN: {', '.join(parts)}")
        if row["COMMENT_TEXT"] and offense is not None and not offense.startswith("SEE"):
            lines.append(f"   COM: {row['COMMENT_TEXT']}")
        lines.append("")
    if case_wide and head["STP_EVENT_DATE"]:
        year = int(head["STP_EVENT_DATE"][:4]) + 3
        lines += [f" {year}{head['STP_EVENT_DATE'][4:]}", f"  DISPO:{_SET_ASIDE}", ""]
    return lines


def _sentence(count: pl.DataFrame) -> list[str]:
    parts = []
    for row in count.iter_rows(named=True):
        where = row["SENT_LOC_DESCR"]
        length = row["SENT_LENGTH"]
        unit = _UNITS.get((row["SENT_TIME_CODE"] or row["SENT_TIME_DESCR"] or "")[:1].upper())
        if where and length and unit and length.isdigit():
            parts.append(f"{int(length):03d} {unit} {where}")
        elif where:
            parts.append(where)
    return parts


def render_rapsheets(doj_file: Path, out_dir: Path, people: int | None = None) -> list[Path]:
    """A RAP sheet (`.txt`) per person of a DOJ file, in its order; the first `people` only
    when given. Returns the files written."""
    rows = doj_rows(doj_file)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for index, (key, person) in enumerate(
        rows.group_by("SUBJECT_ID", maintain_order=True), start=1
    ):
        if people is not None and index > people:
            break
        path = out_dir / f"rapsheet-{key[0]}.txt"
        path.write_text(render_rapsheet(person), encoding="utf-8")
        written.append(path)
    return written


# --------------------------------------------------------------------------------------------
# PDFs

_LINES_PER_PAGE = 60


def write_pdf(text: str, path: Path) -> None:
    """The sheet on letter pages in Courier, each page with the header and page number that
    real printouts repeat (the reader removes them)."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen.canvas import Canvas

    lines = text.rstrip("\n").split("\n")
    pages = [lines[i : i + _LINES_PER_PAGE] for i in range(0, len(lines), _LINES_PER_PAGE)]
    canvas = Canvas(str(path), pagesize=letter, invariant=True)
    width, height = letter
    for number, page in enumerate(pages or [[]], start=1):
        canvas.setFont("Courier", 9)
        y = height - 40
        if number > 1:
            canvas.drawString(40, y, "CALIFORNIA DEPARTMENT OF JUSTICE - RECORD REVIEW")
            y -= 11
        for line in page:
            canvas.drawString(40, y, line)
            y -= 11
        canvas.drawString(width / 2 - 20, 25, f"PAGE {number}")
        canvas.showPage()
    canvas.save()


def rasterise_pdf(pdf: Path, out: Path, dpi: int = 200) -> None:
    """A PDF of page images only (no text layer), as a scanner makes: needs `pdftoppm`."""
    from PIL import Image

    if shutil.which("pdftoppm") is None:
        raise RuntimeError("a rasterised PDF needs pdftoppm (apt-get install poppler-utils)")
    with tempfile.TemporaryDirectory(prefix="clearance-scan-") as tmp:
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), f"{tmp}/page"],
            check=True,
            capture_output=True,
        )
        images = [Image.open(p).convert("L") for p in sorted(Path(tmp).glob("page*.png"))]
        images[0].save(out, "PDF", resolution=dpi, save_all=True, append_images=images[1:])


# --------------------------------------------------------------------------------------------
# Noise


def add_noise(text: str, seed: int = 0) -> str:
    """The sheet with the faults of scanned and retyped sheets: `O` for `0` and `l` for `1` in
    some dates (one reading each), stray characters at line ends, a page header inside a cycle.
    Every fault keeps the record readable: tests use it for what the reader must tolerate."""
    rng = random.Random(seed)
    out = []
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped[:8].isdigit() and len(stripped) >= 8 and rng.random() < 0.5:
            date = stripped[:8]
            noisy = date.replace("0", "O", 1) if "0" in date else date.replace("1", "l", 1)
            line = line.replace(date, noisy, 1)
        elif stripped.startswith("CNT:") and rng.random() < 0.2:
            line = line + " ."
        out.append(line)
        if stripped == "- - - -" and rng.random() < 0.3:
            out += ["PAGE 2", "CALIFORNIA DEPARTMENT OF JUSTICE - RECORD REVIEW"]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# Court exports

#: The columns of the synthetic court export, as a case-management system names them.
COURT_COLUMNS = (
    "Case Nbr", "Count", "Defendant", "Birth Date", "CII", "Violation Date", "Disposition Date",
    "Charge", "Charge Desc", "Lvl", "Disposition", "Jail Days", "Probation Months", "Court",
)  # fmt: skip
_LEVEL_CODES = {"FELONY": "F", "MISDEMEANOR": "M", "INFRACTION": "I"}
_CANNABIS = ("11357", "11358", "11359", "11360")


@dataclass(frozen=True)
class CourtExportTruth:
    """What a synthetic export holds, for tests: people and cases by how they relate to the
    DOJ file it was made from."""

    rows: int
    shared_cases: int
    court_only_cases: int
    people_matched_by_cii: int
    people_matched_by_name_dob: int
    new_people: int
    lookalike_people: int


def _us_date(yyyymmdd: str | None) -> str:
    if not yyyymmdd or len(yyyymmdd) != 8 or not yyyymmdd.isdigit() or yyyymmdd.endswith("00"):
        return ""
    return f"{yyyymmdd[4:6]}/{yyyymmdd[6:]}/{yyyymmdd[:4]}"


def write_court_export(
    doj_file: Path, out: Path, county: str, seed: int = 0, people: int = 60
) -> CourtExportTruth:
    """A court case list (CSV, or XLSX when `out` ends in .xlsx) for `county` made from the
    DOJ file's people: some of their cannabis convictions in the county as the court records
    them (shared with the DOJ file), new cases for some of them (court only), new people, and
    look-alikes (a DOJ person's name with another date of birth and no CII) that must stay
    apart. Names, dates and case numbers are synthetic like the DOJ file's."""
    rng = random.Random(seed)
    rows = doj_rows(doj_file)
    county_u = county.strip().upper()
    court = rows.filter(
        pl.col("STP_TYPE_DESCR").str.to_uppercase().str.starts_with("COURT")
        & (pl.col("STP_ORI_CNTY_NAME").str.to_uppercase() == county_u)
        & pl.col("DISP_DESCR").str.to_uppercase().str.starts_with("CONVICTED")
        & pl.col("OFN").is_not_null()
    ).with_columns(
        pl.coalesce("CONV_OFFENSE_DESCR", "DISP_OFFENSE_DESCR", "OFFENSE_DESCR").alias("_offense")
    )
    court = court.filter(
        pl.col("_offense").str.extract(r"^\s*([0-9]{5})", 1).is_in(list(_CANNABIS))
    ).unique(["SUBJECT_ID", "CNT_ORDER"], keep="first", maintain_order=True)
    subjects = court["SUBJECT_ID"].unique(maintain_order=True).to_list()[:people]
    table: list[dict[str, str]] = []
    shared = court_only = by_cii = by_name = new = lookalike = 0
    for index, subject in enumerate(subjects):
        mine = court.filter(pl.col("SUBJECT_ID") == subject)
        first = mine.row(0, named=True)
        with_cii = index % 3 != 0
        if with_cii:
            by_cii += 1
        else:
            by_name += 1
        identity = {
            "Defendant": _court_name(first["PRI_NAME"]),
            "Birth Date": _us_date(first["PRI_DOB"]),
            "CII": first["CII_NUMBER"] if with_cii else "",
        }
        for row in mine.iter_rows(named=True):
            table.append({**identity, **_court_case(row, county_u)})
            shared += 1
        if index % 4 == 0:
            table.append({**identity, **_new_case(rng, county_u, first, index)})
            court_only += 1
    names = rows.unique("SUBJECT_ID", keep="first", maintain_order=True)
    for index in range(max(1, people // 6)):
        # New people: a name no DOJ person has.
        table.append(
            {
                "Defendant": f"COURTONLY, PERSON{index:03d}",
                "Birth Date": f"0{1 + index % 9}/1{index % 9}/19{70 + index % 25}",
                "CII": "",
                **_new_case(rng, county_u, None, 1000 + index),
            }
        )
        new += 1
        court_only += 1
    for index, person in enumerate(names.head(max(1, people // 10)).iter_rows(named=True)):
        # Look-alikes: a DOJ person's name, another date of birth, no CII: never merged.
        dob = person["PRI_DOB"] or "19800101"
        other = f"{int(dob[:4]) + 1}{dob[4:]}"
        table.append(
            {
                "Defendant": _court_name(person["PRI_NAME"]),
                "Birth Date": _us_date(other),
                "CII": "",
                **_new_case(rng, county_u, None, 2000 + index),
            }
        )
        lookalike += 1
        court_only += 1
    _write_table(table, out)
    return CourtExportTruth(
        rows=len(table),
        shared_cases=shared,
        court_only_cases=court_only,
        people_matched_by_cii=by_cii,
        people_matched_by_name_dob=by_name,
        new_people=new,
        lookalike_people=lookalike,
    )


def _court_name(pri_name: str | None) -> str:
    """The court writes `LAST, FIRST M` with a space; the DOJ `LAST,FIRST M`."""
    return (pri_name or "").replace(",", ", ")


def _court_case(row: dict[str, str | None], county: str) -> dict[str, str]:
    offense = row["_offense"] or ""
    section, _, description = offense.partition("-")
    level = _LEVEL_CODES.get((row["CONV_STAT_DESCR"] or "").upper(), "")
    return {
        "Case Nbr": row["OFN"] or "",
        "Count": str(int((row["CNT_ORDER"] or "000000001")[6:9])),
        "Violation Date": _us_date(row["CYC_DATE"]),
        "Disposition Date": _us_date(row["STP_EVENT_DATE"]),
        "Charge": section.strip(),
        "Charge Desc": description.strip(),
        "Lvl": level,
        "Disposition": "CONV",
        "Jail Days": "",
        "Probation Months": "",
        "Court": f"Superior Court, {county.title()}",
    }


def _new_case(
    rng: random.Random, county: str, person: dict[str, str | None] | None, index: int
) -> dict[str, str]:
    """A cannabis conviction the DOJ file does not hold, before 2016-11-09 (as in LA's 2021
    wave, older cases missing from the state's file)."""
    year = rng.randint(1988, 2015)
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    section, description, level = rng.choice(
        (
            ("11357(C) HS", "POSS MARIJUANA OVER 1 OZ", "M"),
            ("11359 HS", "POSSESS MARIJUANA FOR SALE", "F"),
            ("11360(A) HS", "SELL/TRANSPORT MARIJUANA", "F"),
            ("11358 HS", "CULTIVATE MARIJUANA", "F"),
        )
    )
    return {
        "Case Nbr": f"CRT{year % 100:02d}-{index:05d}",
        "Count": "1",
        "Violation Date": f"{month:02d}/{day:02d}/{year}",
        "Disposition Date": f"{month:02d}/{min(day + 20, 28):02d}/{year}",
        "Charge": section,
        "Charge Desc": description,
        "Lvl": level,
        "Disposition": "CONV",
        "Jail Days": str(rng.choice((0, 10, 30, 90))),
        "Probation Months": str(rng.choice((0, 12, 36))),
        "Court": f"Superior Court, {county.title()}",
    }


def _write_table(table: list[dict[str, str]], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(list(COURT_COLUMNS))
        for row in table:
            sheet.append([row.get(c, "") for c in COURT_COLUMNS])
        book.save(out)
        return
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COURT_COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)


# --------------------------------------------------------------------------------------------
# The `clearance synth --format` entry point


@dataclass(frozen=True)
class SourcesWritten:
    """What `write_sources` wrote, for the command's one-line report."""

    files: list[Path]
    people: int
    description: str


def write_sources(
    fmt: str,
    out: Path,
    *,
    rows: int,
    county: str,
    seed: int,
    people: int,
    from_doj: Path | None = None,
    pdf: bool = False,
    scan: bool = False,
) -> SourcesWritten:
    """`rapsheet`: a folder of RAP sheets (`.txt`, and `.pdf` / `-scan.pdf` when asked) made
    from a synthetic DOJ file of `rows` rows (or `from_doj`); `court-export`: a court case list
    (`.csv` or `.xlsx`) with its mapping beside it (`<name>-mapping.yaml`)."""
    with tempfile.TemporaryDirectory(prefix="clearance-synth-") as tmp:
        source = from_doj
        if source is None:
            from clearance.synth import write_synthetic

            source = Path(tmp) / "synthetic.dat"
            write_synthetic(source, rows=rows, county=county, seed=seed, malformed_share=0)
        if fmt == "rapsheet":
            sheets = render_rapsheets(source, out, people=people)
            files = list(sheets)
            for sheet in sheets if (pdf or scan) else []:
                target = sheet.with_suffix(".pdf")
                write_pdf(sheet.read_text(encoding="utf-8"), target)
                if scan:
                    scanned = sheet.with_name(sheet.stem + "-scan.pdf")
                    rasterise_pdf(target, scanned)
                    files.append(scanned)
                if pdf:
                    files.append(target)
                else:
                    target.unlink()
            return SourcesWritten(files, len(sheets), f"{len(sheets):,} RAP sheets in {out}/")
        truth = write_court_export(source, out, county, seed=seed, people=people)
        mapping = out.with_name(out.stem + "-mapping.yaml")
        shutil.copyfile(_example_mapping(), mapping)
        text = mapping.read_text(encoding="utf-8")
        mapping.write_text(
            re.sub(r"(?m)^county: .*$", f"county: {county.strip().upper()}", text),
            encoding="utf-8",
        )
        return SourcesWritten(
            [out, mapping],
            truth.people_matched_by_cii
            + truth.people_matched_by_name_dob
            + truth.new_people
            + truth.lookalike_people,
            f"{truth.rows:,} court rows ({truth.court_only_cases:,} cases the DOJ file lacks) "
            f"in {out}, mapping {mapping.name}",
        )


def _example_mapping() -> Path:
    """The documented mapping the synthetic exports follow (shipped as package data)."""
    from importlib import resources

    return Path(str(resources.files("clearance.records").joinpath("court-export-mapping.yaml")))
