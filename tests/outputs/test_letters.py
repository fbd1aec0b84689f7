"""Notice letters: each person's relieved convictions, exactly, in English and Spanish; no
letter for a deceased person or a person with nothing to name; addresses; templates checked."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from filings_fixtures import build_run, filing_block
from typer.testing import CliRunner

from clearance.cli import app
from clearance.outputs.filings.data import load_run
from clearance.outputs.letters import LettersError, TemplateError, write_letters
from clearance.outputs.letters.templates import DEFAULT_DIR, export_templates, load_templates
from clearance.outputs.reconcile import reconcile, relieved_convictions

DAY = date(2019, 7, 1)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A seed whose run has a person still serving with a policy dismissal (PC 1385): the
    # letters word every kind of change.
    return build_run(tmp_path_factory.mktemp("letters"), seed=8, filing=filing_block())


@pytest.fixture(scope="module")
def written(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("letters-out")
    write_letters(run_dir, out, letter_date=DAY, order_date=date(2019, 3, 1))
    return out


def _dead(run_dir: Path) -> set[str]:
    subjects = pl.read_parquet(run_dir / "record" / "subjects.parquet")
    return set(subjects.filter(pl.col("deceased"))["subject_id"].to_list())


def _expected(run_dir: Path) -> dict[str, set[tuple[str, int]]]:
    """Per living person, the (case, count) of each conviction an order relieves."""
    rows = relieved_convictions(load_run(run_dir)).filter(
        pl.col("order_group").is_not_null() & ~pl.col("subject_id").is_in(sorted(_dead(run_dir)))
    )
    expected: dict[str, set[tuple[str, int]]] = {}
    for row in rows.iter_rows(named=True):
        key = (row["court_case_number"], int(row["count_id"][6:9]))
        expected.setdefault(row["subject_id"], set()).add(key)
    return expected


def _named(body: str, case_word: str, count_word: str) -> set[tuple[str, int]]:
    """(case, count) of every conviction line ("- ...") of a letter's body."""
    lines = [line for line in body.splitlines() if line.startswith("- ")]
    found = set()
    for line in lines:
        match = re.search(rf"{case_word} (.+?), {count_word} (\d+),", line)
        assert match, line
        found.add((match.group(1), int(match.group(2))))
    assert len(found) == len(lines)
    return found


def test_letters_name_exactly_the_relieved_convictions(run_dir: Path, written: Path) -> None:
    expected = _expected(run_dir)
    merge = pl.read_csv(written / "letters.csv", infer_schema=False)
    assert set(merge["subject_id"].to_list()) == set(expected)
    kinds = set()
    for row in merge.iter_rows(named=True):
        want = expected[row["subject_id"]]
        assert _named(row["body_en"], "case", "count") == want
        assert _named(row["body_es"], "caso", "cargo") == want
        assert int(row["convictions"]) == len(want)
        assert (written / row["letter_file"]).is_file()
        kinds |= {
            k
            for k in ("dismissed and sealed", "redesignated", "recalled", "furtherance")
            if k in row["body_en"]
        }
    # The run has every kind of change a letter words.
    assert kinds == {"dismissed and sealed", "redesignated", "recalled", "furtherance"}
    relieved = relieved_convictions(load_run(run_dir))
    others = set(relieved["subject_id"].to_list()) - set(expected)
    assert all(not (written / f"{s}.pdf").exists() for s in others)


def test_pdf_in_both_languages_is_readable(run_dir: Path, written: Path, tmp_path: Path) -> None:
    expected = _expected(run_dir)
    subject = max(expected, key=lambda s: len(expected[s]))
    pdf = written / f"{subject}.pdf"
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    english, _, spanish = text.partition("Su antecedente penal por cannabis ha cambiado")
    assert "Dear " in english and "Estimado/a" in spanish
    for case, _count in expected[subject]:
        assert case in english and case in spanish
    assert "July 1, 2019" in english and "1 de julio de 2019" in text
    assert "March 1, 2019" in english and "1 de marzo de 2019" in spanish
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    assert "DejaVuSerif" in fonts.stdout and "Helvetica" not in fonts.stdout
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 2
    assert all(page.stat().st_size > 3_000 for page in pages)


def test_no_letter_for_the_deceased(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    expected = _expected(run_dir)
    dead = sorted(expected)[:2]
    path = copy / "record" / "subjects.parquet"
    subjects = pl.read_parquet(path)
    subjects.with_columns(
        (pl.col("deceased") | pl.col("subject_id").is_in(dead)).alias("deceased")
    ).write_parquet(path)
    before = write_letters(run_dir, tmp_path / "before", letter_date=DAY)
    # The synthetic file records some people as deceased: none of them has a letter.
    assert before.summary["left_out"]["deceased"] > 0
    for subject in _dead(run_dir):
        assert not (tmp_path / "before" / f"{subject}.pdf").exists()
    done = write_letters(copy, tmp_path / "out", letter_date=DAY)
    assert done.summary["left_out"]["deceased"] == before.summary["left_out"]["deceased"] + 2
    assert done.summary["letters"] == len(expected) - 2
    for subject in dead:
        assert not (tmp_path / "out" / f"{subject}.pdf").exists()


def test_only_reflected_after_reconciliation(run_dir: Path, tmp_path: Path) -> None:
    # Against the unchanged file every conviction is pending: nobody has a change to hear of.
    reconcile(run_dir, tmp_path / "rec", as_of=DAY, newer_files=[run_dir.parent / "doj.dat"])
    done = write_letters(run_dir, tmp_path / "out", reconciled=tmp_path / "rec", letter_date=DAY)
    assert done.summary["letters"] == 0
    assert list((tmp_path / "out").glob("*.pdf")) == []
    relieved = set(relieved_convictions(load_run(run_dir))["subject_id"].to_list())
    assert done.summary["left_out"]["nothing_to_name"] == len(relieved - _dead(run_dir))


def test_addresses_by_subject_or_cii_and_language(run_dir: Path, tmp_path: Path) -> None:
    rows = relieved_convictions(load_run(run_dir)).filter(
        pl.col("subject_id").is_in(sorted(_expected(run_dir)))
    )
    people = rows.select("subject_id", "cii_number").unique("subject_id").sort("subject_id")
    first, second = people.row(0), people.row(1)
    csv = tmp_path / "addresses.csv"
    csv.write_text(
        "SUBJECT_ID,CII,Street,City,State,Zip,Language\n"
        f"{first[0]},,1 Main St,Sacramento,CA,95814,es\n"  # line 2: by SUBJECT_ID, Spanish
        f",{second[1]},2 Oak Ave,Davis,CA,95616,\n"  # line 3: by CII
        "99999999,,3 Elm St,Elk Grove,CA,95624,\n"  # line 4: nobody
        f"{first[0]},,,,,,\n",  # line 5: no address
        encoding="utf-8",
    )
    done = write_letters(run_dir, tmp_path / "out", addresses=csv, letter_date=DAY)
    merge = pl.read_csv(tmp_path / "out" / "letters.csv", infer_schema=False)
    by_id = {r["subject_id"]: r for r in merge.iter_rows(named=True)}
    assert by_id[first[0]]["address_line1"] == "1 Main St"
    assert by_id[first[0]]["languages"] == "es" and by_id[first[0]]["body_en"] in ("", None)
    assert by_id[second[0]]["city"] == "Davis" and by_id[second[0]]["languages"] == "en;es"
    unmatched = pl.read_csv(tmp_path / "out" / "addresses-unmatched.csv", infer_schema=False)
    assert dict(zip(unmatched["source_line"], unmatched["reason"], strict=True)) == {
        "4": "nobody with a letter has this SUBJECT_ID or CII number",
        "5": "no address",
    }
    assert done.summary["addresses"]["matched"] == 2
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "out" / f"{first[0]}.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Estimado/a" in text and "Dear " not in text
    assert "1 Main St" in text and "Sacramento CA 95814" in text.replace(",", "")


def _edit(folder: Path, old: str, new: str, name: str = "en.txt.j2") -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_templates_are_checked_at_load(tmp_path: Path) -> None:
    assert [t.language for t in load_templates(None, None)] == ["en", "es"]
    cases = {
        "uncited": (
            "for all purposes, not a felony (HS 11361.8(h)).",
            "for all purposes, not a felony.",
            "block meaning cites no statute",
        ),
        "syntax": ("{% endblock %}", "{% endblok %}", "en.txt.j2:"),
        "variable": ("{{ person.name }}", "{{ person.name }} {{ ssn }}", "unknown variable ssn"),
        "block": ("{% block closing %}Sincerely,{% endblock %}", "", "missing: closing"),
        "sandbox": ("{{ person.name }}", "{{ person.__class__.__mro__ }}", "does not render"),
    }
    for label, (old, new, message) in cases.items():
        folder = tmp_path / label
        export_templates(folder)
        _edit(folder, old, new)
        with pytest.raises(TemplateError, match=re.escape(message)):
            load_templates(folder, None)


def test_a_language_is_a_template_file(run_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    export_templates(folder)
    shutil.copy(DEFAULT_DIR / "en.txt.j2", folder / "fr.txt.j2")
    _edit(folder, "Dear ", "Madame, Monsieur ", "fr.txt.j2")
    done = write_letters(
        run_dir, tmp_path / "out", templates=folder, languages=["fr"], letter_date=DAY
    )
    assert done.summary["languages"] == ["fr"]
    merge = pl.read_csv(tmp_path / "out" / "letters.csv", infer_schema=False)
    assert merge["greeting_fr"].str.starts_with("Madame, Monsieur ").all()
    with pytest.raises(TemplateError, match="no template for de"):
        write_letters(run_dir, tmp_path / "x", templates=folder, languages=["de"])


def test_cli_letters(run_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["letters", "--run", str(run_dir), "--out", str(tmp_path / "out"), "--date", "2019-07-01"],
    )
    assert result.exit_code == 0, result.output
    assert "letters naming" in result.output
    result = runner.invoke(app, ["letters", "--export-templates", str(tmp_path / "t")])
    assert result.exit_code == 0 and (tmp_path / "t" / "es.txt.j2").is_file()
    result = runner.invoke(app, ["letters", "--run", str(tmp_path / "nothing")])
    assert result.exit_code == 2 and "not a complete run folder" in result.output


def test_letters_need_a_sender(tmp_path: Path) -> None:
    plain = build_run(tmp_path / "plain", rows=1500, seed=3)
    with pytest.raises(LettersError, match="letters need office and phone"):
        write_letters(plain, tmp_path / "out")
    done = write_letters(plain, tmp_path / "out", office={"office": "DA", "phone": "1"})
    assert done.summary["letters"] == len(_expected(plain)) > 0
