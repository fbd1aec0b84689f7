"""Find, read and check a county policy: a preset, a YAML file, or the configurable tool's JSON.

A policy decides what an office asks a court for, so a mistake in one must stop the run with a
message the person who wrote the file can act on: which file, which line, which key, what is
wrong. Every failure here is a `PolicyError` with one such line, never a traceback and never the
file's content beyond the key (an uploaded file may hold anything).

YAML line numbers come from the composed node tree (`yaml.SafeLoader.get_single_node`), indexed
by key path before the document is constructed, so a pydantic error location such as
`("additional_dismissal", "age_at_least")` maps straight back to the line that set it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from clearance.policy.schema import (
    POLICY_SECTIONS,
    AdditionalDismissal,
    Misdemeanors,
    Policy,
    Priors,
    SectionBaseline,
)
from clearance.policy.tool_options import ToolOptions, split_entry

#: The law alone: listed first everywhere, since every other preset is read against it.
DEFAULT_PRESET = "statute"

#: File suffixes: a YAML policy, or the statewide configurable tool's eligibility options.
YAML_SUFFIXES = (".yaml", ".yml")
JSON_SUFFIXES = (".json",)

_PRESET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"

#: A key path into a policy document: mapping keys and sequence indexes.
KeyPath = tuple[str | int, ...]


class PolicyError(Exception):
    """One-line, user-fixable message, e.g. "policy.yaml line 7: additional_dismissal.age_at_least:
    Input should be less than or equal to 120" or "policy.yaml: not valid YAML (line 3): ...".
    Never a traceback, never file content beyond the key.

    `source`, `line` and `key` repeat the parts of the message for a caller (the web app) that
    highlights the offending line; each is None when it does not apply.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.line = line
        self.key = key

    def __str__(self) -> str:
        return self.message


def _located(source: str, line: int | None, key: str | None, problem: str) -> PolicyError:
    """`source line N: key: problem`, leaving out the parts that are unknown."""
    where = source if line is None else f"{source} line {line}"
    text = f"{where}: {key}: {problem}" if key else f"{where}: {problem}"
    return PolicyError(text, source=source, line=line, key=key)


def dotted(path: KeyPath) -> str:
    """`("related_charges", "dismiss", 2)` -> `related_charges.dismiss[2]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


# ---------------------------------------------------------------------------------------------
# Presets


def _presets_dir() -> Traversable:
    """The shipped presets, found as package data so an installed wheel works like a checkout."""
    return resources.files("clearance.policy").joinpath("presets")


def preset_names() -> list[str]:
    """Names of the shipped presets, the statute first and then alphabetical."""
    names = [
        entry.name.removesuffix(".yaml")
        for entry in _presets_dir().iterdir()
        if entry.is_file() and entry.name.endswith(".yaml")
    ]
    return sorted(names, key=lambda name: (name != DEFAULT_PRESET, name))


def _no_such(spec: str) -> PolicyError:
    """The message for a spec that is neither a preset nor a file: it lists the choices."""
    return PolicyError(
        f"no such policy file or preset {spec!r}: presets are {', '.join(preset_names())}"
    )


def preset_path(name: str) -> Path:
    """The file of a shipped preset (for display and for copying as a starting point)."""
    if not _PRESET_NAME.match(name) or name not in preset_names():
        raise _no_such(name)
    return Path(str(_presets_dir().joinpath(f"{name}.yaml")))


def list_presets() -> list[Policy]:
    """Every shipped preset, loaded and checked; the statute first, then by name."""
    return [load_policy(name) for name in preset_names()]


# ---------------------------------------------------------------------------------------------
# Reading a spec


@dataclass(frozen=True)
class _Source:
    """A resolved spec: its exact text, the name used in messages, and how to read it."""

    text: str
    name: str
    kind: Literal["yaml", "json"]
    preset: str | None = None


def _decode(data: bytes, name: str) -> str:
    """UTF-8 text, decoded as is (no newline translation) so the audit copy equals the file."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(
            f"{name}: not UTF-8 text (byte {exc.start}): save the policy as UTF-8", source=name
        ) from None


def _resolve(spec: str | Path) -> _Source:
    """Read a preset name or a file path into text, without interpreting it yet.

    A string that names a preset is that preset, even if a file of the same name exists in the
    working directory: presets have no suffix and policy files must have one, so the two cannot
    be confused. A Path is always a file.
    """
    if isinstance(spec, str) and spec in preset_names():
        name = f"{spec}.yaml"
        data = _presets_dir().joinpath(name).read_bytes()
        return _Source(_decode(data, name), name, "yaml", preset=spec)

    path = Path(spec)
    name = path.name or str(path)
    if not path.exists():
        raise _no_such(str(spec))
    if path.is_dir():
        raise PolicyError(f"{name}: is a folder, not a policy file", source=name)
    suffix = path.suffix.lower()
    if suffix in YAML_SUFFIXES:
        kind: Literal["yaml", "json"] = "yaml"
    elif suffix in JSON_SUFFIXES:
        kind = "json"
    else:
        raise PolicyError(
            f"{name}: a policy file ends in .yaml or .yml, an eligibility options file of the "
            "configurable tool in .json",
            source=name,
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PolicyError(
            f"{name}: cannot read the policy file: {exc.strerror or 'unreadable'}", source=name
        ) from None
    return _Source(_decode(data, name), name, kind)


def policy_text(spec: str | Path) -> str:
    """The exact text of the preset or file (stored with a run so the run can be audited).

    Bytes are decoded without newline translation, so the stored text hashes like the file.
    """
    return _resolve(spec).text


def load_policy(spec: str | Path) -> Policy:
    """spec is a preset name ('statute', 'los-angeles-2020', ...) or a path to a .yaml/.yml policy
    file or a .json eligibility-options file of the statewide configurable tool."""
    source = _resolve(spec)
    if source.kind == "json":
        data = _parse_json(source.text, source.name)
        return policy_from_tool_options(data, source.name)
    policy = policy_from_yaml_text(source.text, source.name)
    if source.preset is not None and policy.name != source.preset:
        # A preset is chosen by file name and reported by `name`; they must not drift apart.
        raise _located(
            source.name, None, "name", f"must be {source.preset!r}, the preset's file name"
        )
    return policy


# ---------------------------------------------------------------------------------------------
# YAML policies


def _index_nodes(root: yaml.Node, source: str) -> dict[KeyPath, int]:
    """Map every key path of the document to its 1-based line, and make keys plain text.

    Keys are retagged as strings so that `11357: dismiss` under `sections` means the section
    name '11357' as written, not the integer 11357. Date-looking scalars are retagged as
    strings too: pydantic then parses them where a date is expected and reports an impossible
    date such as 2019-02-30 with its key and line, instead of PyYAML failing without either.
    Duplicate keys are errors: PyYAML would keep the last silently, hiding the first.
    """
    lines: dict[KeyPath, int] = {(): root.start_mark.line + 1}

    def walk(node: yaml.Node, path: KeyPath, active: frozenset[int]) -> None:
        if id(node) in active:  # a recursive alias; its keys are already indexed
            return
        active = active | {id(node)}
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _TIMESTAMP_TAG:
                node.tag = _STR_TAG
        elif isinstance(node, yaml.MappingNode):
            first_seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                line = key_node.start_mark.line + 1
                if not isinstance(key_node, yaml.ScalarNode):
                    raise _located(source, line, dotted(path) or None, "keys must be plain names")
                if key_node.tag == _MERGE_TAG:
                    walk(value_node, path, active)
                    continue
                key_node.tag = _STR_TAG
                key: str = key_node.value
                key_path = (*path, key)
                if key in first_seen:
                    raise _located(
                        source,
                        line,
                        dotted(key_path),
                        f"key appears twice (first on line {first_seen[key]})",
                    )
                first_seen[key] = line
                lines[key_path] = line
                walk(value_node, key_path, active)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                lines[(*path, index)] = item.start_mark.line + 1
                walk(item, (*path, index), active)

    walk(root, (), frozenset())
    return lines


def _yaml_syntax_error(exc: yaml.YAMLError, source: str) -> PolicyError:
    """`source: not valid YAML (line N): problem`, from PyYAML's marks (0-based lines)."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "cannot be read"
        start = exc.context_mark
        # An unclosed bracket or quote is found lines later: also say where it opened.
        if exc.problem and exc.context and start and mark and start.line != mark.line:
            problem += f" ({exc.context} on line {start.line + 1})"
        if mark is not None:
            line = mark.line + 1
            return PolicyError(
                f"{source}: not valid YAML (line {line}): {problem}", source=source, line=line
            )
        return PolicyError(f"{source}: not valid YAML: {problem}", source=source)
    return PolicyError(f"{source}: not valid YAML: {type(exc).__name__}", source=source)


def _parse_yaml(text: str, source: str) -> tuple[Any, dict[KeyPath, int]]:
    """The document as Python data plus its key-path line index; syntax errors name the line."""
    loader = yaml.SafeLoader(text.removeprefix("\ufeff"))
    try:
        try:
            root = loader.get_single_node()
        except yaml.YAMLError as exc:
            raise _yaml_syntax_error(exc, source) from None
        if root is None:
            raise PolicyError(
                f"{source}: the policy is empty: it needs at least name, title and source",
                source=source,
            )
        if not isinstance(root, yaml.MappingNode):
            line = root.start_mark.line + 1
            kind = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
            raise _located(
                source,
                line,
                None,
                f"the policy must be a mapping of keys (name: ..., title: ...), not {kind}",
            )
        lines = _index_nodes(root, source)
        try:
            data = loader.construct_document(root)
        except yaml.YAMLError as exc:
            raise _yaml_syntax_error(exc, source) from None
        except ValueError as exc:  # PyYAML's scalar constructors raise bare ValueErrors
            raise PolicyError(f"{source}: not valid YAML: {exc}", source=source) from None
    finally:
        loader.dispose()
    return data, lines


def _line_of(loc: KeyPath, lines: dict[KeyPath, int]) -> int:
    """The line of the deepest key on `loc` that the file has (a missing key: its parent's)."""
    for end in range(len(loc), -1, -1):
        line = lines.get(loc[:end])
        if line is not None:
            return line
    return 1


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model an annotation holds (`Filing`, `ToolOptions | None`), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        model = _model_in(arg)
        if model is not None:
            return model
    return None


def _keys_at(root: type[BaseModel], path: KeyPath) -> list[str]:
    """The keys a mapping at `path` accepts, for an "unknown key" message (empty if unknown)."""
    model = root
    for part in path:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        nested = _model_in(field.annotation) if field is not None else None
        if nested is None:
            return []
        model = nested
    return list(model.model_fields)


def _problem(error: ErrorDetails, root: type[BaseModel]) -> str:
    """Pydantic's message, reworded where the default is unhelpful for a file's author."""
    if error["type"] == "missing":
        return "required key is missing"
    if error["type"] == "extra_forbidden":
        known = _keys_at(root, tuple(error["loc"][:-1]))
        return f"unknown key (expected one of: {', '.join(known)})" if known else "unknown key"
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def policy_from_yaml_text(text: str, source_name: str) -> Policy:
    """Check a YAML policy given as text (an uploaded file, a preset); errors carry line numbers.

    Only one error is reported, the one nearest the top of the file, so the author fixes the
    file in reading order.
    """
    data, lines = _parse_yaml(text, source_name)
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = min(errors, key=lambda error: _line_of(tuple(error["loc"]), lines))
        loc = tuple(first["loc"])
        raise _located(
            source_name, _line_of(loc, lines), dotted(loc) or None, _problem(first, Policy)
        ) from None


# ---------------------------------------------------------------------------------------------
# The statewide configurable tool's eligibility options (JSON)

#: JSON layout of the tool's options file: group -> JSON key -> `ToolOptions` field.
TOOL_OPTION_KEYS: dict[str, dict[str, str]] = {
    "baselineEligibility": {"dismiss": "dismiss", "reduce": "reduce"},
    "additionalRelief": {
        "subjectUnder21AtConviction": "subject_under_21_at_conviction",
        "subjectAgeThreshold": "subject_age_threshold",
        "yearsSinceConvictionThreshold": "years_since_conviction_threshold",
        "yearsCrimeFreeThreshold": "years_crime_free_threshold",
        "subjectHasOnlyProp64Charges": "subject_has_only_prop64_charges",
        "subjectIsDeceased": "subject_is_deceased",
    },
}
_JSON_KEY_OF_FIELD = {
    field: f"{group}.{key}"
    for group, keys in TOOL_OPTION_KEYS.items()
    for key, field in keys.items()
}


def _parse_json(text: str, source: str) -> Any:
    """The JSON document; a syntax error names its line, a repeated key is an error."""

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise _located(source, None, key, "key appears twice")
            result[key] = value
        return result

    try:
        return json.loads(text.removeprefix("\ufeff"), object_pairs_hook=unique)
    except json.JSONDecodeError as exc:
        raise PolicyError(
            f"{source}: not valid JSON (line {exc.lineno}): {exc.msg}",
            source=source,
            line=exc.lineno,
        ) from None


def _slug(text: str) -> str:
    """A policy-name-safe slug: lower case, runs of anything else become one hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _section_baselines(options: ToolOptions) -> dict[str, SectionBaseline]:
    """The nearest section-level summary of the tool's lists, for display.

    A whole-section entry in `dismiss` is "dismiss" (the tool's dismiss step comes before its
    reduce step, so it wins over any reduce entry). A whole-section entry in `reduce` with no
    dismiss entry for the section is "reduce". Anything else is "review": a section the tool's
    lists do not name got no decision there (step 10), and a section split by subsection
    ("11357(a)" dismissed, the rest not) has no single section-level answer. The exact lists
    stay in `Policy.tool_options`, which is what the configurable_tool flow decides with.
    """
    dismiss = [split_entry(entry) for entry in options.dismiss]
    reduce = [split_entry(entry) for entry in options.reduce]
    baselines: dict[str, SectionBaseline] = {}
    for section in POLICY_SECTIONS:
        dismissed = {sub for sec, sub in dismiss if sec == section}
        reduced = {sub for sec, sub in reduce if sec == section}
        if "" in dismissed:
            baselines[section] = "dismiss"
        elif not dismissed and "" in reduced:
            baselines[section] = "reduce"
        else:
            baselines[section] = "review"
    return baselines


def _tool_options(data: dict[str, Any], source: str) -> ToolOptions:
    """Check the file's layout and values; errors name the JSON key (`additionalRelief.x`)."""
    flat: dict[str, Any] = {}
    for group, value in data.items():
        keys = TOOL_OPTION_KEYS.get(group) if isinstance(group, str) else None
        if keys is None:
            raise _located(
                source,
                None,
                str(group),
                f"unknown key (expected one of: {', '.join(TOOL_OPTION_KEYS)})",
            )
        if value is None:  # the tool decoded null as its zero values
            continue
        if not isinstance(value, dict):
            raise _located(source, None, group, f"must be an object with {', '.join(keys)}")
        for key, item in value.items():
            field = keys.get(key) if isinstance(key, str) else None
            if field is None:
                raise _located(
                    source,
                    None,
                    f"{group}.{key}",
                    f"unknown key (expected one of: {', '.join(keys)})",
                )
            if item is not None:
                flat[field] = item
    try:
        return ToolOptions.model_validate(flat)
    except ValidationError as exc:
        error = exc.errors()[0]
        head, *rest = error["loc"]
        key = _JSON_KEY_OF_FIELD.get(str(head), str(head)) + dotted(
            tuple(part for part in rest if isinstance(part, int))
        )
        raise _located(source, None, key, _problem(error, ToolOptions)) from None


def policy_from_tool_options(data: dict[str, Any], source_name: str) -> Policy:
    """Turn the statewide configurable tool's eligibility options into a Policy.

    The result runs the tool's own first-holding-step flow (`flow="configurable_tool"`) from
    `tool_options`, so an office that used the tool gets the same decisions. The other fields
    are set to their nearest equivalents for display: misdemeanors dismissed (the tool's step
    1), priors only reported (`warn`: the tool did not act on super strikes, PC 290 or two
    priors), and the additional-relief thresholds as additional dismissals (0 means off).
    The `judgment` switches keep the statute's defaults: they describe the statute reading the
    flow's warnings compare against, not the tool.
    """
    if not isinstance(data, dict):
        raise PolicyError(
            f"{source_name}: the eligibility options must be a JSON object with "
            "baselineEligibility and additionalRelief",
            source=source_name,
        )
    options = _tool_options(data, source_name)
    file_name = Path(source_name).name
    return Policy(
        name=f"configurable-tool-{_slug(Path(source_name).stem) or 'options'}",
        title=f"Statewide configurable tool options ({file_name})",
        source=f"Eligibility options file {file_name} of the statewide configurable tool",
        flow="configurable_tool",
        sections=_section_baselines(options),
        misdemeanors=Misdemeanors(treatment="dismiss", since=None),
        priors=Priors(effect="warn", applies_to="reductions"),
        additional_dismissal=AdditionalDismissal(
            age_at_least=options.subject_age_threshold or None,
            under_21_at_conviction=options.subject_under_21_at_conviction,
            years_since_conviction=options.years_since_conviction_threshold or None,
            crime_free_years=options.years_crime_free_threshold or None,
            only_cannabis=options.subject_has_only_prop64_charges,
            deceased=options.subject_is_deceased,
        ),
        still_serving="statute",
        remaining="reduce",
        tool_options=options,
    )
