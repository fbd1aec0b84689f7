"""The scale benchmark behind `make bench-scale` and `make bench-scale-large`.

Three measurements, each a whole `clearance run` under `/usr/bin/time -v`, on synthetic files
made once (bench/cache/, outside git):

- `--spark N`: the Spark engine in local mode on two cores against the local engine, on N rows
  (1M by default), with where Spark's time goes (`--timings`);
- `--statewide N`: `--county all` on a statewide file of N rows (10M; other sizes are kept
  beside it), and with `--compare-with CMD` the same run made by another installation's
  `clearance` command (e.g. the version before a change), its outputs compared byte for byte;
- `--outofcore N[,M...]`: N rows (20M, and 10M for the ratio) with `--memory-limit 3G`, so the
  input is decided in buckets of people on disk: wall time, peak memory, the disk the buckets
  used and the seconds of each stage.

The machine's load average is recorded beside each figure: it is shared, and a loaded machine
makes every figure slower. The results go to bench/results.json ("scale") and are rendered by
bench/run.py into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import (
    AS_OF,
    CACHE,
    CLEARANCE,
    OUT,
    RESULTS_JSON,
    RESULTS_MD,
    SEED,
    _elapsed,
    _peak_mb,
    machine,
    render,
    write_results_md,
)


def synth(rows: int, *extra: str) -> Path:
    """The cached input of `rows` rows (`extra`: synth options, part of its name)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    tag = "".join(e.strip("-").replace(" ", "") for e in extra)
    path = CACHE / f"synth-{rows}-seed{SEED}{'-' + tag if tag else ''}.dat"
    if not path.exists():
        partial = path.with_suffix(".partial")
        subprocess.run([str(CLEARANCE), "synth", "--rows", str(rows), "--seed", str(SEED),
                        "--out", str(partial), *extra], check=True)  # fmt: skip
        partial.rename(path)
    return path


def timed(args: list[str]) -> dict[str, object]:
    """One command under /usr/bin/time -v: wall, peak RSS, its output, the load around it."""
    load_before = os.getloadavg()[0]
    done = subprocess.run(["/usr/bin/time", "-v", *args], capture_output=True, text=True,
                          check=False)  # fmt: skip
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-3000:])
        raise SystemExit(f"failed: {' '.join(args)}")
    return {
        "wall_s": round(_elapsed(done.stderr), 2),
        "cpu_s": round(_cpu_seconds(done.stderr), 2),
        "peak_mb": round(_peak_mb(done.stderr)),
        "load_1min": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "stdout": done.stdout,
    }


def _cpu_seconds(text: str) -> float:
    """User plus system seconds: on a loaded machine the wall time mostly measures the load,
    the processor time much less so."""
    found = re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", text)
    return sum(float(f) for f in found)


def run_args(path: Path, out: Path, county: str, *extra: str) -> list[str]:
    return [str(CLEARANCE), "run", str(path), "--county", county, "--as-of", AS_OF,
            "--out", str(out), *extra]  # fmt: skip


def spark(rows: int) -> dict[str, object]:
    path = synth(rows)
    figures: dict[str, object] = {"rows": rows, "bytes": path.stat().st_size}
    for engine, extra in (("local", ()), ("spark", ("--engine", "spark", "--master", "local[2]"))):
        out = OUT / f"scale-{engine}-{rows}"
        shutil.rmtree(out, ignore_errors=True)
        timings = out.with_suffix(".timings.json")
        result = timed(run_args(path, out, "sacramento", "--quiet", "--timings", str(timings),
                                *extra))  # fmt: skip
        result.pop("stdout")
        result["stages_s"] = json.loads(timings.read_text(encoding="utf-8"))
        figures[engine] = result
    same = all(
        (OUT / f"scale-local-{rows}" / name).read_bytes()
        == (OUT / f"scale-spark-{rows}" / name).read_bytes()
        for name in ("convictions.csv", "people.csv", "summary.json", "results.csv")
    )
    figures["identical_outputs"] = same
    return figures


def statewide(
    rows: int, compare_with: Path | None = None, label: str = "", limit: str = ""
) -> dict[str, object]:
    path = synth(rows, "--county", "all")
    out = OUT / f"scale-statewide-{rows}"
    shutil.rmtree(out, ignore_errors=True)
    extra = ("--memory-limit", limit) if limit else ()
    result = timed(run_args(path, out, "all", "--quiet", *extra))
    result.pop("stdout")
    counties = json.loads((out / "statewide.json").read_text(encoding="utf-8"))
    figures: dict[str, object] = {
        "rows": rows,
        "bytes": path.stat().st_size,
        **({"memory_limit": limit} if limit else {}),
        "counties": len(counties["counties"]),
        "convictions": counties["statewide"]["convictions"],
        **result,
    }
    if compare_with is not None:
        other = OUT / f"scale-statewide-{rows}-compared"
        shutil.rmtree(other, ignore_errors=True)
        compared = timed([str(compare_with), *run_args(path, other, "all", "--quiet")[1:]])
        compared.pop("stdout")
        figures["compared"] = {**compared, "identical_outputs": same_tree(out, other),
                               "label": label or "the version compared"}  # fmt: skip
    return figures


def same_tree(a: Path, b: Path) -> bool:
    """Whether two output folders hold the same files with the same bytes (run.json aside:
    it names its folder)."""

    def files(root: Path) -> dict[str, Path]:
        return {str(p.relative_to(root)): p for p in root.rglob("*")
                if p.is_file() and p.name != "run.json"}  # fmt: skip

    left, right = files(a), files(b)
    return left.keys() == right.keys() and all(
        left[k].read_bytes() == right[k].read_bytes() for k in left
    )


def outofcore(rows: int, limit: str) -> dict[str, object]:
    path = synth(rows)
    out = OUT / f"scale-outofcore-{rows}"
    shutil.rmtree(out, ignore_errors=True)
    timings = out.with_suffix(".timings.json")
    result = timed(run_args(path, out, "sacramento", "--memory-limit", limit, "--timings",
                            str(timings)))  # fmt: skip
    result["stages_s"] = json.loads(timings.read_text(encoding="utf-8"))
    text = " ".join(str(result.pop("stdout")).split())
    # The outputs are as large as the input: not kept, so that 10M and 20M fit on one disk.
    shutil.rmtree(out, ignore_errors=True)
    match = re.search(r"decided in ([\d,]+) buckets of people \(([\d,]+) MB on disk", text)
    return {
        "rows": rows,
        "bytes": path.stat().st_size,
        "memory_limit": limit,
        "buckets": int(match.group(1).replace(",", "")) if match else 0,
        "disk_mb": int(match.group(2).replace(",", "")) if match else 0,
        **result,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spark", type=int, default=0, help="rows for Spark against local")
    parser.add_argument("--statewide", type=int, default=0, help="rows for --county all")
    parser.add_argument("--outofcore", default="", help="rows for the buckets (N or N,M,...)")
    parser.add_argument("--memory-limit", default="3G")
    parser.add_argument(
        "--compare-with",
        type=Path,
        default=None,
        help="--statewide: another installation's clearance to compare with",
    )
    parser.add_argument("--compare-label", default="", help="what --compare-with is")
    parser.add_argument(
        "--statewide-limit",
        default="",
        help="--statewide: with this --memory-limit (every county decided in buckets of people)",
    )
    args = parser.parse_args()
    data: dict[str, object] = {"results": {}}
    if RESULTS_JSON.exists():
        data = json.loads(RESULTS_JSON.read_text(encoding="utf-8"))
    scale = data.setdefault("scale", {})
    assert isinstance(scale, dict)
    stamp = {"measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
             "machine": machine()}  # fmt: skip
    # The 10M statewide figure is the issue's; another size is kept beside it.
    state_key = "statewide" if args.statewide in (0, 10_000_000) else f"statewide-{args.statewide}"
    state_key += f"-{args.statewide_limit}" if args.statewide_limit else ""
    for key, rows, measure in (
        ("spark", args.spark, lambda n: spark(n)),
        (
            state_key,
            args.statewide,
            lambda n: statewide(n, args.compare_with, args.compare_label, args.statewide_limit),
        ),
    ):
        if rows:
            print(f"measuring {key} on {rows:,} rows", flush=True)
            scale[key] = {**measure(rows), **stamp}
            print(json.dumps(scale[key]), flush=True)
            RESULTS_JSON.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    # Out of core, by size: the 20M figure is judged against the 10M one made the same way.
    sizes = [int(n) for n in args.outofcore.split(",") if n.strip()]
    core = scale.get("outofcore")
    if sizes and (not isinstance(core, dict) or "rows" in core):
        core = scale["outofcore"] = {}
    for rows in sizes:
        assert isinstance(core, dict)
        print(f"measuring outofcore on {rows:,} rows", flush=True)
        core[str(rows)] = {**outofcore(rows, args.memory_limit), **stamp}
        print(json.dumps(core[str(rows)]), flush=True)
        RESULTS_JSON.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    write_results_md(render(data))
    print(f"wrote {RESULTS_MD}")


if __name__ == "__main__":
    main()
