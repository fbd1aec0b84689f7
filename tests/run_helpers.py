"""Running `clearance` as a user does, in its own process: exit statuses, signals, resource
limits and pipes are the operating system's, so they are tested on a real process."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from clearance.synth import write_synthetic

#: The command as installed (`clearance` is `python -m clearance.main`).
COMMAND = [sys.executable, "-m", "clearance.main"]
AS_OF = "2026-11-21"


def clearance(
    *args: str | Path,
    stdin: bytes | None = None,
    preexec: Callable[[], None] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[bytes]:
    """Run `clearance ARGS` to its end."""
    return subprocess.run(
        [*COMMAND, *(str(a) for a in args)],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        preexec_fn=preexec,
        env={**os.environ, "COLUMNS": "1000"},
        check=False,
    )


def start(*args: str | Path) -> subprocess.Popen[bytes]:
    """Start `clearance ARGS` and return at once."""
    return subprocess.Popen(
        [*COMMAND, *(str(a) for a in args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "1000"},
    )


def run_args(inputs: Sequence[str | Path], out: Path, *extra: str) -> list[str | Path]:
    """The arguments of a statute run of `inputs` into `out`."""
    return ["run", *inputs, "--county", "Sacramento", "--as-of", AS_OF, "--out", out, "-q",
            *extra]  # fmt: skip


def synthetic_input(factory: pytest.TempPathFactory, seed: int) -> Path:
    """A small synthetic county file (3,000 rows), for a test module's runs."""
    path = factory.mktemp("input") / "county.dat"
    write_synthetic(path, rows=3000, county="SACRAMENTO", seed=seed)
    return path


def completed_run(factory: pytest.TempPathFactory, source: Path) -> Path:
    """A complete run folder of `source` (tests that change it work on a `copy_run`)."""
    out = factory.mktemp("done") / "first"
    result = clearance(*run_args([source], out))
    assert result.returncode == 0, result.stderr.decode()
    return out


def copy_run(done: Path, tmp_path: Path) -> Path:
    """A copy of a run folder, to damage or replace."""
    out = tmp_path / "results"
    shutil.copytree(done, out)
    return out


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` (hidden ones too) with the SHA-256 of its bytes."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def leftovers(out: Path) -> list[str]:
    """Hidden working files or folders of a command left beside its output folder."""
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def error_line(result: subprocess.CompletedProcess[bytes]) -> str:
    """The one line on stderr, checked to be one line starting `error:` with no traceback."""
    text = result.stderr.decode()
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert lines[0].startswith("error: "), text
    assert "Traceback" not in text + result.stdout.decode()
    return lines[0]
