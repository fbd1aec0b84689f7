"""Jobs run at a lower CPU priority than the server, so its pages are answered first."""

from __future__ import annotations

import os
from pathlib import Path

from clearance.web.workers import JOB_NICENESS, start_worker, without_paths

#: The highest niceness a process can have on Linux.
MOST_NICE = 19


def write_niceness(path: str) -> None:
    """A job that records its own niceness (module-level: a spawned worker imports it)."""
    Path(path).write_text(str(os.nice(0)), encoding="utf-8")


def test_a_worker_runs_at_a_lower_priority_than_the_server(tmp_path: Path) -> None:
    target = tmp_path / "niceness"
    server = os.nice(0)
    process = start_worker(write_niceness, (str(target),), "clearance-test-niceness")
    process.join(timeout=120)
    assert process.exitcode == 0
    assert int(target.read_text(encoding="utf-8")) == min(server + JOB_NICENESS, MOST_NICE)
    assert os.nice(0) == server  # the server keeps its own


def test_messages_keep_no_server_path() -> None:
    run = Path("/srv/clearance/data/runs/7")
    upload = Path("/srv/clearance/data/uploads/3f2a/county file.dat.gz")
    cases = [
        (f"{run}/.build-x1/reviewed is not complete", "reviewed is not complete"),
        (f"{run}/.build-x1/reviewed/summary.json: no JSON", "reviewed/summary.json: no JSON"),
        (f"in {run}: (see {run}/filings/manifest.json)", "in 7: (see filings/manifest.json)"),
        (f"{upload}: line 3 is too long", "county file.dat.gz: line 3 is too long"),
        (f"{run}7/summary.json stays", f"{run}7/summary.json stays"),
    ]
    for message, expected in cases:
        assert without_paths(message, [run, upload]) == expected
