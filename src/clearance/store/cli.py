"""`clearance db|users|audit|runs ...`: the store's commands, registered on the main app.

Like every command of `clearance`, these print one line on an error the user can fix (a wrong
folder, a taken user name, a database that cannot be reached) and exit non-zero, and they never
print a name, a date of birth or an identifier from the data, nor a password or the database's.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

out = Console()
err = Console(stderr=True)

DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder of the SQLite database (default: $CLEARANCE_DATA_DIR or ./data); "
        "ignored when CLEARANCE_DATABASE_URL is set.",
    ),
]

T = TypeVar("T")


def fail(message: str, code: int = 2) -> None:
    """One line and exit; the message is escaped (a path such as `x[/b]` is text, not markup)."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def _friendly() -> Iterator[None]:
    """One line for the errors a user can fix, never a traceback."""
    from sqlalchemy.exc import OperationalError

    from clearance.store.reviews import ReviewError
    from clearance.store.runs import StoreError
    from clearance.store.users import UserError

    try:
        yield
    except (StoreError, UserError, ReviewError, PermissionError) as exc:
        fail(str(exc))
    except OperationalError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig else "unreachable"
        fail(f"cannot use the database: {reason}")


def with_session(data_dir: Path | None, work: Callable[[Session], T]) -> T:
    """Run `work` in a session on an up-to-date database, errors as one line."""
    from clearance.store.db import database_url, session_factory

    url = database_url(data_dir)
    with _friendly(), session_factory(url)() as session:
        return work(session)
    raise AssertionError("unreachable")  # pragma: no cover


def default_actor() -> str:
    """Who the audit names for a command typed at this machine: its user account."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


db_app = typer.Typer(help="The database: create or upgrade its tables.", no_args_is_help=True)
users_app = typer.Typer(help="People who sign in to the review workspace.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log of every change.", no_args_is_help=True)
runs_app = typer.Typer(help="Runs kept in the database.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDirOpt = None) -> None:
    """Create the tables, or bring them to the latest version (safe to repeat)."""
    from clearance.store.db import database_url, safe_url, upgrade

    url = database_url(data_dir)
    with _friendly():
        upgrade(url)
    out.print(f"database is up to date: {safe_url(url)}", highlight=False)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        fail("the two passwords differ")
    return first


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Sign-in name (letters, digits, . _ -).")],
    role: Annotated[
        str, typer.Option(help="admin, attorney (review), analyst (read, run) or viewer (read).")
    ],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Add a user; the password is asked for twice (never given on the command line)."""
    from clearance.store.users import add_user

    password = _read_password(password_stdin)
    user = with_session(data_dir, lambda s: add_user(s, username, password, role))
    out.print(f"added {user.username} ({user.role})", highlight=False)


@users_app.command("list")
def users_list(data_dir: DataDirOpt = None) -> None:
    """Every user with role and state."""
    from clearance.store.models import utcnow
    from clearance.store.users import list_users

    users = with_session(data_dir, list_users)
    now = utcnow()
    table = Table()
    for column in ("user", "role", "state", "failed sign-ins", "created"):
        table.add_column(column)
    for user in users:
        locked = user.locked_until is not None and user.locked_until > now
        state = "disabled" if user.disabled else ("locked" if locked else "active")
        table.add_row(
            user.username,
            user.role,
            state,
            str(user.failed_logins),
            user.created_at.strftime("%Y-%m-%d"),
        )
    out.print(table)


@users_app.command("disable")
def users_disable(username: str, data_dir: DataDirOpt = None) -> None:
    """Stop a user from signing in; their past reviews and audit entries stay."""
    from clearance.store.users import disable_user

    with_session(data_dir, lambda s: disable_user(s, username, actor=default_actor()))
    out.print(f"disabled {username.strip().lower()}", highlight=False)


@users_app.command("enable")
def users_enable(username: str, data_dir: DataDirOpt = None) -> None:
    """Let a disabled or locked-out user sign in again."""
    from clearance.store.users import enable_user

    with_session(data_dir, lambda s: enable_user(s, username, actor=default_actor()))
    out.print(f"enabled {username.strip().lower()}", highlight=False)


@users_app.command("password")
def users_password(
    username: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Set a new password for a user (and clear a lock-out)."""
    from clearance.store.users import set_password

    password = _read_password(password_stdin)
    with_session(data_dir, lambda s: set_password(s, username, password, actor=default_actor()))
    out.print(f"password set for {username.strip().lower()}", highlight=False)


@audit_app.command("verify")
def audit_verify(data_dir: DataDirOpt = None) -> None:
    """Check the hash chain of the whole log; exit 1 if any entry was edited, deleted or moved."""
    from clearance.store.audit import verify

    result = with_session(data_dir, verify)
    if result.ok:
        out.print(
            f"audit log intact: {result.checked:,} entries, head {result.head_hash}",
            highlight=False,
        )
        return
    err.print(
        f"[bold red]audit log broken:[/] {escape(result.problem or '')} "
        f"({result.checked:,} entries checked before it)",
        highlight=False,
        soft_wrap=True,
    )
    raise typer.Exit(1)


@runs_app.command("store")
def runs_store(
    run_dir: Annotated[Path, typer.Argument(help="Folder written by `clearance run`.")],
    inputs: Annotated[
        list[Path],
        typer.Option(
            "--input", help="The DOJ files the run read, in order (repeat --input for each)."
        ),
    ],
    by: Annotated[
        str | None, typer.Option("--by", help="Who stores it (default: cli:<login>).")
    ] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Load a run folder into the database for review (inputs are hashed and checked)."""
    import time

    from clearance.store.runs import store_run

    started = time.perf_counter()
    run = with_session(data_dir, lambda s: store_run(s, run_dir, inputs, by or default_actor()))
    seconds = time.perf_counter() - started
    convictions = run.summary.get("convictions", 0)
    out.print(
        f"stored run {run.id}: {run.county}, policy {run.policy_name}, as of {run.as_of}, "
        f"{convictions:,} convictions in {seconds:.1f} s",
        highlight=False,
    )


@runs_app.command("list")
def runs_list(data_dir: DataDirOpt = None) -> None:
    """Runs in the database, newest first."""
    from clearance.store.runs import list_runs

    runs = with_session(data_dir, list_runs)
    table = Table()
    for column in ("id", "created", "by", "county", "policy", "as of", "status", "convictions"):
        table.add_column(column, justify="right" if column in ("id", "convictions") else "left")
    for run in runs:
        table.add_row(
            str(run.id),
            run.created_at.strftime("%Y-%m-%d %H:%M"),
            run.created_by,
            run.county,
            run.policy_name,
            run.as_of.isoformat(),
            run.status,
            f"{run.summary.get('convictions', 0):,}",
        )
    out.print(table)


@runs_app.command("export")
def runs_export(
    run_id: Annotated[int, typer.Argument(help="The run's id (`clearance runs list`).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the reviewed copy.")],
    inputs: Annotated[
        list[Path] | None,
        typer.Option("--input", help="The run's DOJ files, to rebuild results.csv."),
    ] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Write a copy of the run folder whose tables carry the reviewed decisions."""
    from clearance.store.runs import export_reviewed_run

    written = with_session(
        data_dir,
        lambda s: export_reviewed_run(s, run_id, out_dir, inputs=inputs, actor=default_actor()),
    )
    out.print(f"reviewed outputs in {written}/", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the store's command groups to the `clearance` app."""
    app.add_typer(db_app, name="db")
    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")
    app.add_typer(runs_app, name="runs")
