"""The scale engines use the reader and the engine through their public interfaces only: a
private name (`_name`) of another module is free to change, and an engine built on one would
silently fork from the reader it copies."""

from __future__ import annotations

import ast
from pathlib import Path

import clearance.scale

SCALE = Path(clearance.scale.__file__).parent


def private_imports(path: Path) -> list[str]:
    """`module._name` for each private name `path` imports from another module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    return found


def test_no_private_name_is_imported_across_modules() -> None:
    modules = sorted(SCALE.glob("*.py"))
    assert {"reading.py", "spark.py", "outofcore.py"} <= {m.name for m in modules}
    assert {m.name: private_imports(m) for m in modules if private_imports(m)} == {}


def test_the_check_sees_a_private_import(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text("from clearance.records.doj import _process, read_doj\n", encoding="utf-8")
    assert private_imports(module) == ["clearance.records.doj._process"]
