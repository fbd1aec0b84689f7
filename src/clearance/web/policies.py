"""Policies the web app offers: the shipped presets plus YAML policies saved in the data folder.

A saved policy is stored under its own `name` (`<data>/policies/<name>.yaml`) only after
`policy_from_yaml_text` accepts it, so every policy offered for a run is a valid one. A saved
policy cannot take a preset's name: a run's policy name must mean one text. Every save is a
new version, kept with who saved it and when (`policy_versions`); none is overwritten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from clearance.policy.loader import (
    PolicyError,
    policy_from_yaml_text,
    policy_text,
    preset_names,
)
from clearance.policy.schema import Policy
from clearance.web.policy_versions import PolicyVersion, add_version

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
#: Largest policy text accepted (the presets are a few KB).
MAX_POLICY_BYTES = 256 * 1024


@dataclass(frozen=True)
class PolicyChoice:
    """A policy that can be chosen for a run."""

    name: str
    title: str
    source: str
    preset: bool
    text: str


def valid_name(name: str) -> bool:
    """Whether `name` can be a saved policy's name (and so a file name in the data folder)."""
    return bool(_NAME.match(name))


def policies_dir(data_dir: Path) -> Path:
    """Where saved policies live."""
    return data_dir / "policies"


def _saved_path(data_dir: Path, name: str) -> Path | None:
    if not _NAME.match(name):
        return None
    path = policies_dir(data_dir) / f"{name}.yaml"
    return path if path.is_file() else None


def get_policy(data_dir: Path, name: str) -> PolicyChoice | None:
    """A preset or a saved policy by name, checked again on reading (files can be edited)."""
    if name in preset_names():
        text = policy_text(name)
        preset = True
    else:
        path = _saved_path(data_dir, name)
        if path is None:
            return None
        text = path.read_text(encoding="utf-8")
        preset = False
    try:
        policy = policy_from_yaml_text(text, f"{name}.yaml")
    except PolicyError:
        return None
    return PolicyChoice(policy.name, policy.title, policy.source, preset, text)


def all_policies(data_dir: Path) -> list[PolicyChoice]:
    """Presets (statute first), then saved policies by name."""
    names = list(preset_names())
    folder = policies_dir(data_dir)
    if folder.is_dir():
        names += sorted(p.stem for p in folder.glob("*.yaml") if p.stem not in names)
    return [choice for name in names if (choice := get_policy(data_dir, name)) is not None]


def check_policy_text(text: str, source_name: str) -> Policy:
    """The policy a text describes; PolicyError (with .line) when it is not valid."""
    if len(text.encode("utf-8")) > MAX_POLICY_BYTES:
        raise PolicyError(f"{source_name}: larger than {MAX_POLICY_BYTES // 1024} KB")
    return policy_from_yaml_text(text, source_name)


def save_policy(
    data_dir: Path, text: str, source_name: str, saved_by: str
) -> tuple[Policy, PolicyVersion]:
    """Check a policy and store it as the next version under its name; presets cannot be
    replaced."""
    policy = check_policy_text(text, source_name)
    line = next(
        (i for i, row in enumerate(text.splitlines(), 1) if re.match(r"name\s*:", row)), None
    )
    if not _NAME.match(policy.name):
        raise PolicyError(
            f"{source_name}: name: at most 80 characters",
            source=source_name,
            line=line,
            key="name",
        )
    if policy.name in preset_names():
        raise PolicyError(
            f"{source_name}: name: {policy.name!r} is a shipped preset; give the policy its own "
            "name (for example your county and year)",
            source=source_name,
            line=line,
            key="name",
        )
    folder = policies_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return policy, add_version(folder, policy.name, text, saved_by)
