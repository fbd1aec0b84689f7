"""What the machine does to a run: a full disk, a folder that cannot be written, pipes,
Ctrl-C, a kill. Each ends in one line with its own exit status (README) and leaves the previous
outputs as they were.

The conditions are real: a file-size limit (RLIMIT_FSIZE, EFBIG) and a small tmpfs (ENOSPC)
for a full disk, a read-only mount for a folder that cannot be written, real pipes, real
signals to a real process.
"""

from __future__ import annotations

import csv
import io
import json
import os
import resource
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from clearance.synth import write_synthetic
from run_helpers import (
    COMMAND,
    clearance,
    completed_run,
    copy_run,
    error_line,
    leftovers,
    run_args,
    snapshot,
    start,
    synthetic_input,
)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_input(tmp_path_factory, seed=21)


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory, small: Path) -> Path:
    """A complete run folder (copied by the tests that change it)."""
    return completed_run(tmp_path_factory, small)


@pytest.mark.parametrize(
    ("make", "code", "needle"),
    [
        (lambda p: p, 3, "no such file"),
        (lambda p: (p.mkdir(), p)[1], 4, "is a folder, not a file"),
        (lambda p: Path("/dev/null"), 4, "is a device, not a file"),
    ],
    ids=["not-found", "a-folder", "a-device"],
)
def test_inputs_that_are_not_files(tmp_path: Path, make, code: int, needle: str) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path / "delivery.dat")
    out = tmp_path / "out"
    result = clearance(*run_args([path], out))
    assert result.returncode == code
    line = error_line(result)
    assert needle in line and str(path) in line
    assert not out.exists() and leftovers(out) == []


def _convictions_without_source(folder: Path) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO((folder / "convictions.csv").read_text())))
    at = rows[0].index("source")
    return [row[:at] + row[at + 1 :] for row in rows]


@pytest.mark.parametrize("spelling", ["-", "/dev/stdin"])
def test_input_from_a_pipe_is_read_like_a_file(
    done: Path, small: Path, tmp_path: Path, spelling: str
) -> None:
    out = tmp_path / "piped"
    result = clearance(*run_args([spelling], out), stdin=small.read_bytes())
    assert result.returncode == 0, result.stderr.decode()
    assert _convictions_without_source(out) == _convictions_without_source(done)
    first_source = next(csv.DictReader(io.StringIO((out / "convictions.csv").read_text())))
    assert first_source["source"].startswith("stdin:")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["input"]["files"][0]["name"] == "stdin"
    # results.csv reads the input a second time: it must hold every piped row.
    piped = (out / "results.csv").read_bytes().count(b"\n")
    assert piped == (done / "results.csv").read_bytes().count(b"\n")
    assert clearance("verify", out).returncode == 0
    assert leftovers(out) == []


def test_a_process_substitution_is_read(done: Path, small: Path, tmp_path: Path) -> None:
    """`clearance run <(zcat file.gz)`: a /dev/fd path that is a pipe."""
    out = tmp_path / "fd"
    script = (
        f'{" ".join(COMMAND)} run <(cat "{small}") --county Sacramento --as-of 2026-11-21 '
        f'--out "{out}" -q'
    )
    result = subprocess.run(["bash", "-c", script], capture_output=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr.decode()
    assert _convictions_without_source(out) == _convictions_without_source(done)


def _file_size_limit(limit: int):  # type: ignore[no-untyped-def]
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_disk_full_at_a_file_size_limit(done: Path, small: Path, tmp_path: Path) -> None:
    """The first output over the limit fails with EFBIG: exit 7, the old folder as it was."""
    out = copy_run(done, tmp_path)
    before = snapshot(out)
    result = clearance(*run_args([small], out, "--no-what-if"), preexec=_file_size_limit(200_000))
    assert result.returncode == 7
    line = error_line(result)
    assert "disk full (file-size limit reached)" in line
    assert f"the previous outputs in {out} are unchanged" in line
    assert snapshot(out) == before and leftovers(out) == []
    assert clearance("verify", out).returncode == 0


def _namespace_mounts() -> bool:
    """Whether this machine lets a test mount its own tmpfs (a user and mount namespace)."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


NAMESPACES = pytest.mark.skipif(
    not _namespace_mounts(), reason="no user/mount namespaces here to mount a small tmpfs"
)


def _in_small_tmpfs(size: int, script: str) -> subprocess.CompletedProcess[str]:
    """Run `script` (sh) with $D a fresh tmpfs of `size` bytes, $C the clearance command and
    $R its run arguments, in a private mount namespace (nothing outside sees the mount)."""
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c",
         f'D="$1"; C="$2"; R="--county Sacramento -q"; '
         f'mount -t tmpfs -o size={size} tmpfs "$D" || exit 99\n{script}',
         "sh", "/mnt", " ".join(COMMAND)],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip


def _sizes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


@NAMESPACES
def test_disk_full_on_a_small_file_system(done: Path, small: Path, tmp_path: Path) -> None:
    """ENOSPC on a real (tiny) file system: exit 7; the first run's folder still verifies."""
    bigger = tmp_path / "bigger.dat"
    write_synthetic(bigger, rows=12_000, county="SACRAMENTO", seed=22)
    size = _sizes(done) * 3 // 2 + 64 * 1024
    script = f"""
$C run "{small}" $R --as-of 2026-11-21 --out "$D/out" >/dev/null; echo "first=$?"
cp "$D/out/run.json" "{tmp_path}/run-before.json"
$C run "{bigger}" $R --as-of 2026-11-21 --out "$D/out" 2>"{tmp_path}/err.txt" >/dev/null
echo "second=$?"
$C verify "$D/out" >/dev/null 2>&1; echo "verify=$?"
cmp -s "$D/out/run.json" "{tmp_path}/run-before.json"; echo "same=$?"
ls -A "$D" | tr '\\n' ' '; echo
"""
    result = _in_small_tmpfs(size, script)
    lines = result.stdout.splitlines()
    assert lines[:4] == ["first=0", "second=7", "verify=0", "same=0"], result.stdout + result.stderr
    assert lines[4].split() == ["out"]
    message = (tmp_path / "err.txt").read_text().strip()
    assert "disk full (no space left on the device)" in message
    assert "the previous outputs in /mnt/out are unchanged" in message
    assert len(message.splitlines()) == 1


@NAMESPACES
def test_a_read_only_output_folder(small: Path, tmp_path: Path) -> None:
    """A folder that cannot be written is said before anything is read: exit 6."""
    script = f"""
$C run "{small}" $R --as-of 2026-11-21 --out "$D/out" >/dev/null; echo "first=$?"
mount -o remount,ro "$D" || exit 98
$C run "{small}" $R --as-of 2026-11-22 --out "$D/out" 2>"{tmp_path}/err1.txt" >/dev/null
echo "again=$?"
$C run "{small}" $R --as-of 2026-11-22 --out "$D/new" 2>"{tmp_path}/err2.txt" >/dev/null
echo "new=$?"
$C verify "$D/out" >/dev/null 2>&1; echo "verify=$?"
"""
    result = _in_small_tmpfs(64 * 1024 * 1024, script)
    assert result.stdout.splitlines() == ["first=0", "again=6", "new=6", "verify=0"], (
        result.stdout + result.stderr
    )
    assert (tmp_path / "err1.txt").read_text().strip() == (
        "error: /mnt/out: not writable (read-only file system)"
    )
    assert "not writable (read-only file system)" in (tmp_path / "err2.txt").read_text()


#: The superuser passes every permission check; without these capabilities (dropped from the
#: bounding set before the program starts) it is held to a folder's permissions like anyone.
_AS_ANYONE = (
    ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]
    if os.geteuid() == 0
    else []
)


def test_a_folder_without_write_permission(small: Path, tmp_path: Path) -> None:
    """A folder of which the user may not write: exit 6, said before anything is read."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        result = subprocess.run(
            [*_AS_ANYONE, *COMMAND, *(str(a) for a in run_args([small], locked / "out"))],
            capture_output=True,
            timeout=600,
            check=False,
        )
    finally:
        locked.chmod(0o755)
    assert result.returncode == 6, result.stderr.decode()
    assert error_line(result) == f"error: {locked / 'out'}: not writable (permission denied)"
    assert list(locked.iterdir()) == []


def _wait_for_building(out: Path, process: subprocess.Popen[bytes]) -> None:
    building = out.parent / f".{out.name}.building"
    deadline = time.monotonic() + 300
    while not building.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.005)


@pytest.mark.parametrize(("signum", "code", "how"), [(signal.SIGINT, 130, "Ctrl-C"),
                                                     (signal.SIGTERM, 143, "SIGTERM")])  # fmt: skip
def test_a_signal_stops_the_run_and_keeps_the_previous_outputs(
    done: Path, small: Path, tmp_path: Path, signum: int, code: int, how: str
) -> None:
    out = copy_run(done, tmp_path)
    before = snapshot(out)
    process = start(*run_args([small], out, "--as-of", "2026-12-01"))
    _wait_for_building(out, process)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == code, stderr.decode()
    assert stderr.decode().strip() == (
        f"error: stopped by {how}; the previous outputs in {out} are unchanged"
    )
    assert snapshot(out) == before and leftovers(out) == []


def handlers_installed(pid: int) -> bool:
    """Whether the program's own signal handlers are in place: it catches SIGTERM (bit 15 of
    SigCgt in /proc/PID/status), which Python leaves alone until `clearance.main` installs
    its handlers for SIGINT and then SIGTERM (Python's own SIGINT handler comes earlier, so
    SIGINT cannot tell)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) & (1 << (signal.SIGTERM - 1)))


def test_ctrl_c_while_starting_stops_with_130(tmp_path: Path, small: Path) -> None:
    """Before the command has even parsed its options (Polars still loading, which takes
    about a second)."""
    process = start(*run_args([small], tmp_path / "out"))
    # As soon as the program's handlers are in (its first step, before Polars loads), not
    # after a guessed delay: on a busy machine a fixed sleep may end before Python has started.
    while process.poll() is None and not handlers_installed(process.pid):
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 130
    assert stderr.decode().strip().startswith("error: stopped by Ctrl-C")
    assert "Traceback" not in stderr.decode()


def test_ctrl_c_is_obeyed_even_when_inherited_as_ignored(
    done: Path, small: Path, tmp_path: Path
) -> None:
    """A shell starts background jobs with SIGINT ignored; `kill -INT` must still stop a run."""
    out = copy_run(done, tmp_path)
    before = snapshot(out)
    process = subprocess.Popen(
        [*COMMAND, *map(str, run_args([small], out, "--as-of", "2026-12-01"))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    _wait_for_building(out, process)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=300)
    assert process.returncode == 130
    assert snapshot(out) == before


def test_a_killed_run_leaves_the_old_folder_and_the_next_run_cleans_up(
    done: Path, small: Path, tmp_path: Path
) -> None:
    out = copy_run(done, tmp_path)
    before = snapshot(out)
    process = start(*run_args([small], out, "--as-of", "2026-12-01"))
    _wait_for_building(out, process)
    process.kill()
    process.communicate(timeout=300)
    assert snapshot(out) == before
    assert clearance("verify", out).returncode == 0
    result = clearance(*run_args([small], out))
    assert result.returncode == 0, result.stderr.decode()
    assert snapshot(out) == before  # same arguments as the first run: the same bytes
    assert leftovers(out) == []


def test_a_timings_file_that_cannot_be_written_is_said_before_reading(
    small: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = clearance(*run_args([small], out, "--timings", str(tmp_path / "no" / "t.json")))
    assert result.returncode == 3
    line = error_line(result)
    assert "t.json: the folder" in line and "does not exist" in line
    assert f"nothing was written to {out}" in line
    folder = clearance(*run_args([small], out, "--timings", str(tmp_path)))
    assert folder.returncode == 4
    assert "is a folder, not a file" in error_line(folder)
    assert not out.exists() and leftovers(out) == []


def test_the_readme_lists_every_exit_status() -> None:
    """The table of exit statuses in the README is the one the program uses."""
    from clearance.exits import Exit

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = readme.split("### Exit statuses", 1)[1].split("\n\n##", 1)[0]
    rows = [line.split("|")[1].strip() for line in table.splitlines() if line.startswith("| ")]
    listed = {int(cell) for cell in rows if cell.isdigit()}
    assert listed == {int(code) for code in Exit}
