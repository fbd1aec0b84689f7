"""The speed and memory benchmark behind `make bench` and `make bench-large`.

For each size it makes a synthetic DOJ file once (cached in bench/cache/, outside git), runs the
whole `clearance run` with all its default outputs under `/usr/bin/time -v` several times, and
records the median wall time, the peak resident memory and the seconds of each stage. Results
of every size measured on this machine kind are kept in bench/results.json and rendered to
bench/RESULTS.md with the machine, the command, and a linear fit (start-up cost + rows/s).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = HERE / "cache"
OUT = HERE / "out"
RESULTS_JSON = HERE / "results.json"
RESULTS_MD = HERE / "RESULTS.md"
CLEARANCE = ROOT / ".venv" / "bin" / "clearance"
SEED = 1
AS_OF = "2026-11-21"
COUNTY = "sacramento"
#: The stages `clearance run --timings` reports, in the order they run: reading, deciding,
#: writing the outputs, the filings (with `--filings`), and the manifest (run.json: every
#: file's SHA-256, then the folder swapped in).
STAGES = ("read", "decide", "write", "filings", "manifest")


def synth_file(rows: int) -> Path:
    """The cached input of `rows` rows, made with `clearance synth` when missing."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"synth-{rows}-seed{SEED}.dat"
    if not path.exists():
        partial = path.with_suffix(".partial")
        subprocess.run(
            [str(CLEARANCE), "synth", "--rows", str(rows), "--seed", str(SEED), "--out",
             str(partial)],
            check=True,
        )  # fmt: skip
        partial.rename(path)
    return path


def _elapsed(text: str) -> float:
    match = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text)
    if not match:
        raise RuntimeError("no wall time in /usr/bin/time output")
    parts = [float(p) for p in match.group(1).split(":")]
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


def _peak_mb(text: str) -> float:
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if not match:
        raise RuntimeError("no peak memory in /usr/bin/time output")
    return int(match.group(1)) / 1024


def command(path: Path, out: Path, timings: Path) -> list[str]:
    return [
        str(CLEARANCE), "run", str(path), "--county", COUNTY, "--as-of", AS_OF,
        "--out", str(out), "--quiet", "--timings", str(timings),
    ]  # fmt: skip


def measure(rows: int, repeats: int, warmup: bool) -> dict[str, object]:
    """Run `clearance run` on the file of `rows` rows `repeats` times, after one run that is not
    counted (it brings the input into the page cache, as an analyst's second run finds it).
    Each run writes into an emptied output folder, as a new run does."""
    path = synth_file(rows)
    out = OUT / str(rows)
    timings_file = out.with_suffix(".timings.json")
    runs = []
    for attempt in range(repeats + (1 if warmup else 0)):
        shutil.rmtree(out, ignore_errors=True)
        timed = subprocess.run(
            ["/usr/bin/time", "-v", *command(path, out, timings_file)],
            capture_output=True,
            text=True,
            check=False,
        )
        if timed.returncode != 0:
            sys.stderr.write(timed.stderr[-2000:])
            raise SystemExit(f"clearance run failed on {rows} rows")
        if warmup and attempt == 0:
            continue
        stages = json.loads(timings_file.read_text(encoding="utf-8"))
        runs.append({"wall_s": _elapsed(timed.stderr), "peak_mb": _peak_mb(timed.stderr), **stages})
    size = path.stat().st_size
    wall = statistics.median(r["wall_s"] for r in runs)
    return {
        "rows": rows,
        "bytes": size,
        "repeats": repeats,
        "wall_s_median": round(wall, 2),
        "wall_s_all": [r["wall_s"] for r in runs],
        "rows_per_s": round(rows / wall),
        "mb_per_s": round(size / 1e6 / wall, 1),
        "peak_mb_max": round(max(r["peak_mb"] for r in runs)),
        "stages_s_median": {
            stage: round(statistics.median(float(r[stage]) for r in runs), 2)
            for stage in STAGES
            if all(stage in r for r in runs)
        },
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    memory = "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        memory = f"{kb / 1024 / 1024:.1f} GiB"
    polars = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-c", "import polars; print(polars.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "cores": str(os.cpu_count()),
        "memory": memory,
        "cpu": platform.processor() or platform.machine(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "polars": polars,
    }


def fit(results: list[dict[str, object]]) -> tuple[float, float] | None:
    """Least squares `wall = start + rows / rate` over the sizes measured."""
    points = [(float(r["rows"]), float(r["wall_s_median"])) for r in results]  # type: ignore[arg-type]
    if len(points) < 2:
        return None
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx
    return mean_y - slope * mean_x, 1 / slope


def render(data: dict[str, object]) -> str:
    results = sorted(data["results"].values(), key=lambda r: r["rows"])  # type: ignore[attr-defined]
    # Filings are timed only by runs made with --filings: their column only when measured.
    stages = [
        s for s in STAGES if s != "filings" or any(s in r["stages_s_median"] for r in results)
    ]
    info = data["machine"]
    lines = [
        "# Benchmark: `clearance run` on synthetic DOJ files",
        "",
        "Made by `make bench` (100k and 1M rows) and `make bench-large` (10M rows); the raw",
        "figures are in `bench/results.json`. Each run writes every default output (convictions,",
        "results with every input row, people, summary with its what-if policies, quarantine).",
        "Before the measured runs of a size, one run that is not counted brings the input into",
        "the page cache (10M: measured once, without it); each run writes into an emptied output",
        "folder.",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()),  # type: ignore[attr-defined]
        "",
        "Command, for each size N (input made once with `clearance synth --rows N --seed 1`):",
        "",
        "```",
        f"/usr/bin/time -v clearance run bench/cache/synth-N-seed{SEED}.dat --county {COUNTY} "
        f"--as-of {AS_OF} --out bench/out/N --quiet --timings bench/out/N.timings.json",
        "```",
        "",
        "| rows | file MB | runs | median wall s | rows/s | MB/s | peak RSS MB | "
        + " | ".join(f"{stage} s" for stage in stages)
        + " |",
        "|---:|---:|---:|---:|---:|---:|---:|" + "---:|" * len(stages),
    ]
    for r in results:
        st = r["stages_s_median"]
        lines.append(
            f"| {r['rows']:,} | {r['bytes'] / 1e6:,.0f} | {r['repeats']} | {r['wall_s_median']} "
            f"| {r['rows_per_s']:,} | {r['mb_per_s']} | {r['peak_mb_max']:,} | "
            + " | ".join(str(st.get(stage, "-")) for stage in stages)
            + " |"
        )
    lines += [
        "",
        "Stages (`--timings`): read the input, decide, write the outputs, "
        + ("the filings, " if "filings" in stages else "")
        + "and the manifest (run.json, every file's SHA-256, then the folder swapped in); "
        "the wall time adds the interpreter's start. A dash: a stage not timed when that size "
        "was measured.",
    ]
    line = fit(results)
    lines.append("")
    if line:
        start, rate = line
        lines.append(
            f"Linear fit over the sizes above: wall = {start:.2f} s + rows / {rate:,.0f} rows/s."
        )
    lines.append("")
    lines.append("Targets (issue 4), as measured above:")
    by_rows = {int(r["rows"]): r for r in results}
    one, ten = by_rows.get(1_000_000), by_rows.get(10_000_000)

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    if one:
        lines.append(
            f"- 1M rows median <= 6 s: {one['wall_s_median']} s, "
            f"{verdict(one['wall_s_median'] <= 6)}"
        )
        lines.append(
            f"- 1M rows peak RSS <= 1 GB (1,024 MB): {one['peak_mb_max']:,} MB, "
            f"{verdict(one['peak_mb_max'] <= 1024)}"
        )
    if ten:
        lines.append(
            f"- 10M rows peak RSS <= 3 GB (3,072 MB): {ten['peak_mb_max']:,} MB, "
            f"{verdict(ten['peak_mb_max'] <= 3072)}"
        )
    if one and ten:
        ratio = ten["wall_s_median"] / one["wall_s_median"]
        lines.append(f"- 10M wall time within 12x of 1M: {ratio:.1f}x, {verdict(ratio <= 12)}")
    lines += render_scale(data, by_rows)
    return "\n".join(lines) + "\n"


def write_results_md(text: str) -> None:
    """bench/RESULTS.md as rendered, followed by what follows the first section another
    benchmark marks there (`<!-- bench-web: start -->`: that section and the notes after it):
    each benchmark rewrites its own part, never another's."""
    kept = ""
    if RESULTS_MD.exists():
        old = RESULTS_MD.read_text(encoding="utf-8")
        mark = re.search(r"<!-- bench-[\w-]+: start -->", old)
        kept = old[mark.start() :] if mark else ""
    RESULTS_MD.write_text(text + ("\n" + kept if kept else ""), encoding="utf-8")


def render_scale(data: dict[str, object], by_rows: dict[int, dict[str, object]]) -> list[str]:
    """The section of `bench/scale.py` (issue 18): statewide, out of core, Spark."""
    scale = data.get("scale")
    if not isinstance(scale, dict) or not scale:
        return []
    lines = [
        "",
        "## Beyond one county in memory (`bench/scale.py`)",
        "",
        "Made by `make bench-scale` (Spark against local, 1M rows) and `make bench-scale-large`",
        "(statewide 10M rows, out of core 20M rows); one run each, measured on a machine shared",
        "with other work: the load average (1 minute, before and after the run; 2 cores) is given",
        "beside each figure, and a load above 2 slows every figure.",
        "",
        "| run | rows | file MB | wall s | peak RSS MB | load before/after | notes |",
        "|---|---:|---:|---:|---:|---|---|",
    ]

    def row(name: str, r: dict[str, object], notes: str) -> None:
        load = r["load_1min"]
        assert isinstance(load, list)
        lines.append(
            f"| {name} | {r['rows']:,} | {int(r['bytes']) / 1e6:,.0f} | {r['wall_s']} "  # type: ignore[call-overload]
            f"| {r['peak_mb']:,} | {load[0]} / {load[1]} | {notes} |"
        )

    states = sorted((k for k in scale if k.startswith("statewide")), key=lambda k: k != "statewide")
    for key in states:
        state = scale[key]
        cpu = f", {state['cpu_s']} s of processor time" if "cpu_s" in state else ""
        limit = f" `--memory-limit {state['memory_limit']}`" if "memory_limit" in state else ""
        change = f"; {state['change']}" if state.get("change") else ""
        row(f"`--county all`{limit}", state, f"{state['counties']} counties, "
            f"{state['convictions']:,} convictions decided{cpu}{change}")  # fmt: skip
        before = state.get("before")
        if isinstance(before, dict):
            # A figure measured before a change of the code it measures is kept beside it.
            cpu = f"{before['cpu_s']} s of processor time; " if "cpu_s" in before else ""
            row(f"`--county all`{limit} (before)", {**before, "rows": state["rows"],
                "bytes": state["bytes"]}, f"{cpu}{before.get('change', '')}")  # fmt: skip
        compared = state.get("compared")
        if isinstance(compared, dict):
            same = "yes" if compared["identical_outputs"] else "NO"
            cpu = f"{compared['cpu_s']} s of processor time; " if "cpu_s" in compared else ""
            label = compared.get("label", "the version compared")
            row(f"`--county all`, {label}", {**compared, "rows": state["rows"],
                "bytes": state["bytes"]}, f"{cpu}same outputs, byte for byte: {same}")  # fmt: skip
    cores = _outofcore(scale)
    for core in cores.values():
        # Figures measured before a change of the code they measure are kept beside it (one,
        # or a list, oldest first).
        before = core.get("before")
        earlier = before if isinstance(before, list) else [before]
        for figures, label in [*((b, " (before)") for b in earlier), (core, "")]:
            if not isinstance(figures, dict):
                continue
            stages = ", ".join(f"{k} {v} s" for k, v in figures.get("stages_s", {}).items())
            notes = [f"{figures['buckets']:,} buckets, {figures['disk_mb']:,} MB on disk"]
            notes += [f"{figures['cpu_s']} s of processor time"] if "cpu_s" in figures else []
            notes += [stages] if stages else []
            notes += [str(figures["change"])] if figures.get("change") else []
            row(f"`--memory-limit {figures['memory_limit']}`{label}", {**figures,
                "rows": core["rows"], "bytes": core["bytes"]}, "; ".join(notes))  # fmt: skip
    spark = scale.get("spark")
    if isinstance(spark, dict):
        for engine in ("local", "spark"):
            r = {**spark[engine], "rows": spark["rows"], "bytes": spark["bytes"]}
            stages = ", ".join(f"{k} {v} s" for k, v in r["stages_s"].items())
            row(f"`--engine {engine}`" + (" `--master local[2]`" if engine == "spark" else ""),
                r, stages)  # fmt: skip
        ratio = spark["spark"]["wall_s"] / spark["local"]["wall_s"]
        lines += [
            "",
            f"Spark local[2] against the local engine on {spark['rows']:,} rows: {ratio:.1f}x the "
            f"wall time; outputs identical: {'yes' if spark['identical_outputs'] else 'NO'}.",
        ]
    lines.append("")
    lines.append("Targets (issue 18), as measured above:")
    for core in cores.values():
        lines.append(
            f"- {core['rows']:,} rows out of core, peak RSS <= 3 GB: {core['peak_mb']:,} MB, "
            + ("met" if int(core["peak_mb"]) <= 3072 else "NOT met")
        )
    twenty, ten = cores.get(20_000_000), cores.get(10_000_000)
    if twenty and ten:
        ratio = float(twenty["wall_s"]) / float(ten["wall_s"])
        lines.append(
            f"- 20M rows within 2.2x of 10M rows' wall time (both out of core): {ratio:.2f}x, "
            + ("met" if ratio <= 2.2 else "NOT met (see the load)")
        )
        if "cpu_s" in twenty and "cpu_s" in ten:
            cpu = float(twenty["cpu_s"]) / float(ten["cpu_s"])
            lines.append(
                f"  (processor time, which the machine's load distorts much less: {cpu:.2f}x, "
                + ("within 2.2x)" if cpu <= 2.2 else "above 2.2x)")
            )
    return lines


def _outofcore(scale: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """The out-of-core figures by rows (older results hold a single one)."""
    core = scale.get("outofcore")
    if not isinstance(core, dict):
        return {}
    if "rows" in core:
        return {int(core["rows"]): core}
    return {int(rows): figures for rows, figures in sorted(core.items(), key=lambda kv: int(kv[0]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    data: dict[str, object] = {"results": {}}
    if RESULTS_JSON.exists():
        data = json.loads(RESULTS_JSON.read_text(encoding="utf-8"))
    data["machine"] = machine()
    results = data["results"]
    assert isinstance(results, dict)
    for size in (int(s) for s in args.sizes.split(",")):
        # The 10M file is larger than a warm-up is worth; it is measured once, cold.
        large = size >= 10_000_000
        repeats = 1 if large else args.repeats
        print(f"measuring {size:,} rows x {repeats}", flush=True)
        results[str(size)] = measure(size, repeats, warmup=not large)
        print(json.dumps(results[str(size)]), flush=True)
    RESULTS_JSON.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    write_results_md(render(data))
    print(f"wrote {RESULTS_MD.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
