"""Letter templates: Jinja2 files an office can edit, one per language (`en.txt.j2`,
`es.txt.j2`; more languages by adding `<code>.txt.j2`).

A template is text in named blocks (`BLOCKS`); paragraphs are separated by a blank line. It is
rendered in Jinja2's sandbox (a template cannot reach Python objects beyond the values given)
and checked when loaded, so a broken template stops before any letter is written:

- it parses (a syntax error is reported with the file and line);
- every block of `BLOCKS` is defined, and no variable outside `VARIABLES` is used;
- rendered for a sample person with every kind of change, every paragraph of the claim blocks
  (`CLAIM_BLOCKS`) and every conviction line cites a statute (`CITATION`): a letter never tells
  a person what the law does without saying which law.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
from jinja2.sandbox import SandboxedEnvironment

#: Where the shipped templates are.
DEFAULT_DIR = Path(__file__).parent / "templates"
SUFFIX = ".txt.j2"
#: Every block a template defines, in the order of the letter.
BLOCKS = ("subject", "greeting", "intro", "conviction", "meaning", "record", "contact", "closing")
#: Blocks whose every paragraph states the law: each must cite a statute.
CLAIM_BLOCKS = ("intro", "conviction", "meaning", "record")
#: The values a template may use (docs/letters.md describes them).
VARIABLES = frozenset(
    {"person", "office", "convictions", "c", "any", "order_date", "date", "language"}
)
#: A statute citation: a code named (English or Spanish, or HS / PC) and a section number.
CITATION = re.compile(
    r"\b(?:HS|PC|Health and Safety Code|Penal Code|Código de Salud y Seguridad|Código Penal)"
    r"\b[^;:()]{0,24}?\d{3,}"
)
#: The kinds of change a conviction line must handle (`letters.people.CHANGES`).
CHANGES = ("dismissed_sealed", "reduced", "recall_dismissed", "recall_reduced", "dismissed_pc1385")

MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "es": [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
}


class TemplateError(Exception):
    """A template that cannot be used; the message names the file and what to fix."""


def long_date(day: date | None, language: str) -> str:
    """'December 1, 2026' / '1 de diciembre de 2026'; ISO for another language."""
    if day is None:
        return ""
    months = MONTHS.get(language)
    if months is None:
        return day.isoformat()
    if language == "es":
        return f"{day.day} de {months[day.month - 1]} de {day.year}"
    return f"{months[day.month - 1]} {day.day}, {day.year}"


@dataclass(frozen=True)
class LetterTemplate:
    """One language's template, loaded and checked."""

    language: str
    path: Path
    template: jinja2.Template

    def block(self, name: str, context: dict[str, Any]) -> str:
        """One block rendered (text, paragraphs separated by blank lines)."""
        render = self.template.blocks[name]
        return "".join(render(self.template.new_context(context))).strip()

    def paragraphs(self, name: str, context: dict[str, Any]) -> list[str]:
        """One block as paragraphs: blank lines separate them, line breaks inside are spaces."""
        text = self.block(name, context)
        return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def _environment(folder: Path) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(folder)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )


def sample_context(language: str) -> dict[str, Any]:
    """A person with one conviction of every kind of change, to check a template with."""
    convictions = [
        {
            "section": "HS 11359",
            "case": "SAMPLE-1",
            "count": "1",
            "court": "Superior Court of California, County of Sample",
            "conviction_date": long_date(date(2010, 1, 2), language),
            "change": change,
            "level": level,
        }
        for change, level in (
            ("dismissed_sealed", None),
            ("reduced", "misdemeanor"),
            ("reduced", "infraction"),
            ("recall_dismissed", None),
            ("recall_reduced", "misdemeanor"),
            ("dismissed_pc1385", None),
        )
    ]
    return {
        "person": {"name": "Sample Person", "subject_id": "0"},
        "office": {
            "name": "Office",
            "phone": "(000) 000-0000",
            "email": "office@example.org",
            "address": "Address",
            "signer": "Signer",
        },
        "convictions": convictions,
        "any": {change: True for change in ("recall", *CHANGES)},
        "order_date": long_date(date(2020, 1, 2), language),
        "date": long_date(date(2020, 2, 3), language),
        "language": language,
    }


def _check(letter: LetterTemplate, source: str, environment: SandboxedEnvironment) -> None:
    name = letter.path.name
    missing = [b for b in BLOCKS if b not in letter.template.blocks]
    if missing:
        raise TemplateError(
            f"{name}: block{'s' if len(missing) > 1 else ''} missing: "
            f"{', '.join(missing)} (every letter has {', '.join(BLOCKS)})"
        )
    used = jinja2.meta.find_undeclared_variables(environment.parse(source))
    unknown = sorted(used - VARIABLES)
    if unknown:
        raise TemplateError(
            f"{name}: unknown variable{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
            f"(a template may use {', '.join(sorted(VARIABLES))})"
        )
    context = sample_context(letter.language)
    try:
        for block in BLOCKS:
            if block == "conviction":
                continue
            letter.block(block, context)
        lines = [letter.block("conviction", {**context, "c": c}) for c in context["convictions"]]
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{name}: does not render: {exc}") from None
    for block in CLAIM_BLOCKS:
        texts = lines if block == "conviction" else letter.paragraphs(block, context)
        if not texts:
            raise TemplateError(f"{name}: block {block} is empty")
        for text in texts:
            if not CITATION.search(text):
                start = " ".join(text.split()[:8])
                raise TemplateError(
                    f"{name}: a paragraph of block {block} cites no statute ({start!r}...): "
                    "name the code and section, e.g. (HS 11361.8(h))"
                )


def load_template(path: Path) -> LetterTemplate:
    """Load and check one template file; `TemplateError` says what is wrong."""
    if not path.is_file():
        raise TemplateError(f"{path}: no such template")
    language = path.name.removesuffix(SUFFIX)
    environment = _environment(path.parent)
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise TemplateError(f"{path.name}: not UTF-8 text") from None
    try:
        template = environment.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{path.name}:{exc.lineno}: {exc.message}") from None
    letter = LetterTemplate(language=language, path=path, template=template)
    _check(letter, source, environment)
    return letter


def load_templates(folder: Path | None, languages: list[str] | None) -> list[LetterTemplate]:
    """The templates of `folder` (default: the shipped ones), for `languages` (default: every
    template in the folder), English first."""
    root = folder if folder is not None else DEFAULT_DIR
    if not root.is_dir():
        raise TemplateError(f"{root}: no such folder of templates")
    available = {p.name.removesuffix(SUFFIX): p for p in root.glob(f"*{SUFFIX}")}
    wanted = languages or sorted(available, key=lambda code: (code != "en", code))
    absent = [code for code in wanted if code not in available]
    if absent:
        raise TemplateError(
            f"no template for {', '.join(absent)} in {root} (expected "
            f"{', '.join(code + SUFFIX for code in absent)})"
        )
    if not wanted:
        raise TemplateError(f"{root}: no template (*{SUFFIX}) in this folder")
    return [load_template(available[code]) for code in wanted]


def export_templates(folder: Path) -> list[Path]:
    """Copy the shipped templates to `folder` for an office to edit (existing files kept)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(DEFAULT_DIR.glob(f"*{SUFFIX}")):
        target = folder / path.name
        if not target.exists():
            shutil.copyfile(path, target)
            written.append(target)
    return written
