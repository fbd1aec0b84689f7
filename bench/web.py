"""The workspace under load, behind `make bench-web`: is the server responsive while a run and a
filings build execute?

It starts the real server (`clearance serve`, uvicorn) on a fresh data folder, uploads a
synthetic DOJ file of `--rows` rows (cached in bench/cache/ by bench/run.py) and waits for the
run. Then, at once, it starts a second run of the same file and a filings build of the first
(pending decisions included, so every conviction is laid out), and `--clients` signed-in
clients browse the first run's queue, people, downloads and dashboard pages, and the progress
fragments, without pause, until both jobs are done. Every request's route and latency is kept;
the report gives p50 / p95 / max per route, before the jobs (idle) and during them, with the
machine's load, in bench/web-results.json and in bench/RESULTS.md.

The tests use `browse` and `Workspace` on the bundled sample with a few clients and only check
that every request succeeds (tests/web/test_web_load.py); timings belong here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
# The web tests' helpers for signing in and starting runs through the forms (no pytest in it).
sys.path.insert(0, str(HERE.parent / "tests" / "web"))
from web_client import FILING, csrf_of, post_run, run_id_of, sign_in  # noqa: E402

ROOT = HERE.parent
OUT = HERE / "out"
RESULTS_JSON = HERE / "web-results.json"
RESULTS_MD = HERE / "RESULTS.md"
PASSWORD = "bench password, not a secret"
ROLES = ("analyst", "attorney", "viewer")
AS_OF = "2026-11-21"
MARK_START = "<!-- bench-web: start -->"
MARK_END = "<!-- bench-web: end -->"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_users(data_dir: Path) -> None:
    """The data folder's database with one user per role (password PASSWORD)."""
    from clearance.store.db import database_url, session_factory
    from clearance.store.users import add_user

    data_dir.mkdir(parents=True, exist_ok=True)
    with session_factory(database_url(data_dir))() as db:
        for role in ROLES:
            add_user(db, role, PASSWORD, role)


@contextmanager
def serve(data_dir: Path, log: Path, *extra: str) -> Iterator[str]:
    """`clearance serve` on a free port of 127.0.0.1, as an office runs it; its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARANCE_")}
    command = [sys.executable, "-m", "clearance.cli", "serve", "--insecure-http"]
    command += ["--port", str(port), "--data", str(data_dir), *extra]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(base + "/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                raise RuntimeError("the server stopped: see " + str(log))
            time.sleep(0.2)
        else:
            raise RuntimeError("the server did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass
class Workspace:
    """A running server and what the load needs of it."""

    base: str
    data_dir: Path

    def client(self, username: str) -> tuple[httpx.Client, str]:
        client = httpx.Client(base_url=self.base, timeout=600, follow_redirects=False)
        return client, sign_in(client, username, PASSWORD)

    def upload(self, path: Path, county: str = "Sacramento", policy: str = "statute") -> int:
        """Start a run of `path`; its id (the run goes on in its worker)."""
        client, token = self.client("analyst")
        try:
            response = post_run(client, token, path, county=county, policy=policy, as_of=AS_OF)
        finally:
            client.close()
        return run_id_of(response)

    def run_status(self, run_id: int) -> str:
        """queued, running, done or failed."""
        from clearance.store.db import database_url, session_factory
        from clearance.store.models import Run

        with session_factory(database_url(self.data_dir))() as db:
            run = db.get(Run, run_id)
            return run.status if run is not None else "missing"

    def wait_run(self, run_id: int) -> str:
        while (status := self.run_status(run_id)) in ("queued", "running"):
            time.sleep(0.5)
        return status

    def start_build(self, run_id: int, include_pending: bool = True) -> None:
        client, token = self.client("attorney")
        data = FILING | {"csrf_token": token}
        if include_pending:
            data["include_pending"] = "yes"
        try:
            response = client.post(f"/runs/{run_id}/filings", data=data)
        finally:
            client.close()
        if response.status_code != 303:
            raise RuntimeError(f"build refused ({response.status_code})")

    def build_state(self, run_id: int) -> str:
        """The build's status from its state file (queued, running, done, failed)."""
        path = self.data_dir / "runs" / str(run_id) / ".filings-build.json"
        try:
            return str(json.loads(path.read_text(encoding="utf-8")).get("status", ""))
        except (OSError, ValueError):
            return ""

    def subjects(self, run_id: int, limit: int = 2000) -> list[str]:
        """Some SUBJECT_IDs of the run (the person pages the clients open)."""
        from sqlalchemy import select

        from clearance.store.db import database_url, session_factory
        from clearance.store.models import Determination

        with session_factory(database_url(self.data_dir))() as db:
            found = db.execute(
                select(Determination.subject_id)
                .where(Determination.run_id == run_id)
                .distinct()
                .limit(limit)
            ).scalars()
            return [str(s) for s in found]


@dataclass
class Sample:
    route: str
    status: int
    seconds: float
    at: float = 0.0  # when it was sent (perf_counter)


def span(samples: list[Sample]) -> float:
    """Seconds from the first request sent to the last answer."""
    if not samples:
        return 0.0
    return max(s.at + s.seconds for s in samples) - min(s.at for s in samples)


@dataclass
class Targets:
    """What the clients open: one finished run, its people, and the runs being followed."""

    run_id: int
    subjects: list[str]
    following: list[int] = field(default_factory=list)

    def pick(self, rng: random.Random) -> tuple[str, str, dict[str, str], dict[str, str]]:
        """(route, path, query, headers) of the next request."""
        run = self.run_id
        choice = rng.random()
        if choice < 0.35:
            query = rng.choice(
                [
                    {},
                    {"page": str(rng.randint(1, 20))},
                    {"decision": rng.choice(["dismiss", "reduce", "not_eligible", "review"])},
                    {"status": "pending", "sort": "conviction_date"},
                    {"section": "HS 11359(b)", "desc": "1"},
                ]
            )
            return "queue", f"/runs/{run}/review", query, {}
        if choice < 0.65:
            subject = rng.choice(self.subjects)
            return "person", f"/runs/{run}/people/{subject}", {}, {}
        if choice < 0.8:
            return "files", f"/runs/{run}/files", {}, {}
        if choice < 0.9:
            return "dashboard", f"/runs/{run}", {}, {}
        hx = {"HX-Request": "true"}
        if self.following and rng.random() < 0.5:
            return "run status", f"/runs/{rng.choice(self.following)}/status", {}, hx
        return "build status", f"/runs/{run}/filings/status", {}, hx


async def _signed_in(base: str, username: str) -> httpx.AsyncClient:
    """A client with its own session (signing in is not measured: Argon2 is slow on purpose)."""
    client = httpx.AsyncClient(base_url=base, timeout=600, follow_redirects=False)
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    if response.status_code != 303:
        raise RuntimeError(f"sign-in of {username} refused ({response.status_code})")
    return client


async def _requests(
    client: httpx.AsyncClient,
    targets: Targets,
    samples: list[Sample],
    seed: int,
    until: asyncio.Event,
    requests: int | None,
) -> None:
    """One client's requests, one after another without pause."""
    rng = random.Random(seed)
    done = 0
    while not until.is_set() and (requests is None or done < requests):
        route, path, query, headers = targets.pick(rng)
        started = time.perf_counter()
        try:
            response = await client.get(path, params=query, headers=headers)
            status = response.status_code
        except httpx.HTTPError:
            status = 0
        samples.append(Sample(route, status, time.perf_counter() - started, started))
        done += 1


def browse(
    base: str,
    targets: Targets,
    clients: int,
    *,
    requests: int | None = None,
    while_true: Callable[[], bool] | None = None,
    seconds: float | None = None,
    start: Callable[[], None] | None = None,
) -> list[Sample]:
    """`clients` signed-in clients request pages without pause: `requests` each, or for
    `seconds`, or for as long as `while_true()` holds (checked every half second). `start`
    runs (in a thread) once every client is signed in, as they begin: what loads the server.
    """

    async def main() -> list[Sample]:
        sessions = []
        for i in range(clients):  # one at a time: the sign-in rate limits are per address
            sessions.append(await _signed_in(base, ROLES[i % len(ROLES)]))
        stop = asyncio.Event()
        samples: list[Sample] = []

        async def watch() -> None:
            started = time.monotonic()
            while True:
                await asyncio.sleep(0.5)
                if seconds is not None and time.monotonic() - started >= seconds:
                    break
                if while_true is not None and not await asyncio.to_thread(while_true):
                    break
            stop.set()

        starting = asyncio.create_task(asyncio.to_thread(start)) if start is not None else None
        watcher = asyncio.create_task(watch()) if requests is None else None
        try:
            await asyncio.gather(
                *(
                    _requests(client, targets, samples, i, stop, requests)
                    for i, client in enumerate(sessions)
                )
            )
        finally:
            if watcher is not None:
                watcher.cancel()
            for client in sessions:
                await client.aclose()
        if starting is not None:
            await starting
        return samples

    return asyncio.run(main())


def summarize(samples: list[Sample]) -> dict[str, dict[str, float | int]]:
    """Per route: requests, failures (not 200), p50 / p95 / max in milliseconds."""
    table: dict[str, dict[str, float | int]] = {}
    routes = sorted({s.route for s in samples})
    for route in [*routes, "all"]:
        mine = [s for s in samples if route in ("all", s.route)]
        times = sorted(s.seconds * 1000 for s in mine)
        table[route] = {
            "requests": len(mine),
            "failed": sum(1 for s in mine if s.status != 200),
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1),
            "max_ms": round(times[-1], 1),
        }
    return table


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def _table(title: str, summary: dict[str, dict[str, float | int]], seconds: float) -> list[str]:
    rate = summary["all"]["requests"] / seconds if seconds else 0.0
    lines = [
        f"{title} ({seconds:,.0f} s, {rate:,.1f} requests/s):",
        "",
        "| route | requests | failed | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for route, row in summary.items():
        lines.append(
            f"| {route} | {row['requests']:,} | {row['failed']:,} | {row['p50_ms']:,} | "
            f"{row['p95_ms']:,} | {row['max_ms']:,} |"
        )
    return [*lines, ""]


def write_results(result: dict[str, object]) -> None:
    """bench/web-results.json, and the bench-web section of bench/RESULTS.md."""
    RESULTS_JSON.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    idle = result["idle"]
    busy = result["busy"]
    assert isinstance(idle, dict) and isinstance(busy, dict)
    lines = [
        MARK_START,
        "## The workspace under load (`make bench-web`, `bench/web.py`)",
        "",
        f"Measured {result['measured']} on {result['machine']}; load average (1/5/15 min) "
        f"{result['load_before']} before, {result['load_after']} after (`os.getloadavg`). "
        f"`clearance serve` (uvicorn, one process) with {result['clients']} clients requesting "
        "pages of a finished run without pause (queue with filters and pages, person pages, "
        "downloads, dashboard, the progress fragments), signed in as analyst, attorney and "
        f"viewer. Input: {result['rows']:,} synthetic rows ({result['input_mb']:,} MB); the "
        f"first run took {result['first_run_s']:,} s from upload to done.",
        "",
        *_table("Idle (no job running)", idle["summary"], float(idle["seconds"])),
        *_table(
            "During a second run of the same file and a filings build of the first (pending "
            "decisions included)",
            busy["summary"],
            float(busy["seconds"]),
        ),
        f"The second run ({result['second_run']}) took {result['second_run_s']:,} s from the "
        f"start of its upload, the build ({result['build']}) {result['build_s']:,} s; the "
        "clients were signed in before (signing in is not measured). Every request answered "
        f"200 unless the failed column says otherwise. Command: `{result['command']}`.",
        MARK_END,
    ]
    text = RESULTS_MD.read_text(encoding="utf-8") if RESULTS_MD.exists() else ""
    section = "\n".join(lines) + "\n"
    if MARK_START in text and MARK_END in text:
        before, rest = text.split(MARK_START, 1)
        after = rest.split(MARK_END, 1)[1].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS_MD.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--max-seconds", type=float, default=900.0)
    parser.add_argument("--no-write", action="store_true", help="print, do not record")
    args = parser.parse_args()

    sys.path.insert(0, str(HERE))
    from run import synth_file

    source = synth_file(args.rows)
    data_dir = OUT / f"web-{args.rows}"
    if data_dir.exists():
        import shutil

        shutil.rmtree(data_dir)
    make_users(data_dir)
    load_before = _load()
    with serve(data_dir, OUT / f"web-{args.rows}.log") as base:
        site = Workspace(base, data_dir)
        started = time.monotonic()
        first = site.upload(source)
        if site.wait_run(first) != "done":
            raise SystemExit("the first run failed: see the server log")
        first_run_s = time.monotonic() - started
        print(f"first run done in {first_run_s:.0f} s", flush=True)
        targets = Targets(first, site.subjects(first))

        idle = browse(base, targets, args.clients, seconds=args.idle_seconds)
        print("idle:", json.dumps(summarize(idle)["all"]), flush=True)

        ends: dict[str, float] = {}
        started: list[float] = []
        second: list[int] = []

        def start_jobs() -> None:
            started.append(time.monotonic())
            run_id = site.upload(source)
            site.start_build(first)
            targets.following.append(run_id)
            second.append(run_id)  # both jobs started: busy() may now see them end

        def busy() -> bool:
            if not started:
                return True
            now = time.monotonic() - started[0]
            if (
                second
                and "run" not in ends
                and site.run_status(second[0])
                not in (
                    "queued",
                    "running",
                )
            ):
                ends["run"] = now
            if (
                second
                and "build" not in ends
                and site.build_state(first)
                not in (
                    "queued",
                    "running",
                )
            ):
                ends["build"] = now
            return len(ends) < 2 and now < args.max_seconds

        loaded = browse(base, targets, args.clients, while_true=busy, start=start_jobs)
        busy_s = time.monotonic() - started[0]
        print("busy:", json.dumps(summarize(loaded)["all"]), flush=True)
        second_status, build_status = site.run_status(second[0]), site.build_state(first)
    result: dict[str, object] = {
        "measured": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}",
        "command": " ".join(["python", "bench/web.py", *sys.argv[1:]]),
        "rows": args.rows,
        "input_mb": round(source.stat().st_size / 1024**2),
        "clients": args.clients,
        "load_before": load_before,
        "load_after": _load(),
        "first_run_s": round(first_run_s),
        "second_run": second_status,
        "second_run_s": round(ends.get("run", busy_s)),
        "build": build_status,
        "build_s": round(ends.get("build", busy_s)),
        "idle": {"seconds": round(span(idle), 1), "summary": summarize(idle)},
        "busy": {"seconds": round(span(loaded), 1), "summary": summarize(loaded)},
    }
    print(json.dumps(result, indent=2))
    if not args.no_write:
        write_results(result)


if __name__ == "__main__":
    main()
