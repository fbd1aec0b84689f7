"""`clearance serve`: the review workspace on this machine.

It binds to 127.0.0.1 unless told otherwise: the app shows names, dates of birth and criminal
records, so reaching it from another machine must be a deliberate choice (`--host`), behind an
HTTPS proxy. The session cookie is Secure and HSTS is sent unless `--insecure-http`, which
serves plain HTTP on localhost only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from clearance.web.slots import DEFAULT_JOBS

#: Environment variable for the upload limit in bytes (default 2 GB).
MAX_UPLOAD_ENV = "CLEARANCE_MAX_UPLOAD_BYTES"
#: Environment variable of the memory limit of one run in bytes (default 16 GB).
JOB_MEMORY_ENV = "CLEARANCE_JOB_MEMORY_BYTES"
#: Environment variable of the largest decompressed upload in bytes (default 16 GB).
MAX_DECOMPRESSED_ENV = "CLEARANCE_MAX_DECOMPRESSED_BYTES"
#: Addresses --insecure-http may listen on.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def register(app: typer.Typer) -> None:
    """Add `serve` to the `clearance` command."""

    @app.command()
    def serve(
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
        data: Annotated[
            Path | None,
            typer.Option(
                "--data",
                help="Data folder (uploads, runs, the SQLite database); "
                "default $CLEARANCE_DATA_DIR or ./data.",
            ),
        ] = None,
        max_upload: Annotated[
            int | None,
            typer.Option(
                "--max-upload-bytes",
                help=f"Largest DOJ upload in bytes (default ${MAX_UPLOAD_ENV} or 2 GB).",
                min=1,
            ),
        ] = None,
        jobs: Annotated[
            int,
            typer.Option(
                "--jobs",
                help="Jobs (runs and filings builds together) executed at once, each a worker "
                "process; the others wait, shown as queued. Each may use up to "
                "--job-memory-bytes, so keep jobs x that within the machine's memory.",
                min=1,
            ),
        ] = DEFAULT_JOBS,
        job_memory: Annotated[
            int | None,
            typer.Option(
                "--job-memory-bytes",
                help="Memory (address space) one job (a run or a filings build) may use "
                f"(default ${JOB_MEMORY_ENV} or 16 GB); a job that needs more fails cleanly.",
                min=1,
            ),
        ] = None,
        max_decompressed: Annotated[
            int | None,
            typer.Option(
                "--max-decompressed-bytes",
                help=f"Largest upload once decompressed (default ${MAX_DECOMPRESSED_ENV} or 16 "
                "GB).",
                min=1,
            ),
        ] = None,
        insecure_http: Annotated[
            bool,
            typer.Option(
                "--insecure-http",
                help="Serve plain HTTP on this machine: the session cookie is not marked "
                "Secure and no HSTS is sent. Without it the workspace expects HTTPS (a proxy "
                "in front) and only localhost may be served this way.",
            ),
        ] = False,
    ) -> None:
        """Serve the review workspace: upload DOJ files, watch runs, review, download filings."""
        import uvicorn

        from clearance.store.db import DATA_DIR_ENV, DEFAULT_DATA_DIR, database_url
        from clearance.web.app import create_app
        from clearance.web.jobs import DEFAULT_JOB_MEMORY_BYTES
        from clearance.web.logs import logging_config
        from clearance.web.uploads import DEFAULT_MAX_DECOMPRESSED_BYTES, DEFAULT_MAX_UPLOAD_BYTES

        if insecure_http and host not in LOCAL_HOSTS:
            typer.echo(
                f"clearance: --insecure-http serves only this machine ({', '.join(LOCAL_HOSTS)}); "
                "put an HTTPS proxy in front to serve others",
                err=True,
            )
            raise typer.Exit(2)
        folder = data or Path(os.environ.get(DATA_DIR_ENV, "") or DEFAULT_DATA_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        limit = max_upload or int(os.environ.get(MAX_UPLOAD_ENV, DEFAULT_MAX_UPLOAD_BYTES))
        memory = job_memory or int(os.environ.get(JOB_MEMORY_ENV, DEFAULT_JOB_MEMORY_BYTES))
        expanded = max_decompressed or int(
            os.environ.get(MAX_DECOMPRESSED_ENV, DEFAULT_MAX_DECOMPRESSED_BYTES)
        )
        web = create_app(
            database_url(folder),
            folder,
            max_upload_bytes=limit,
            secure_cookies=not insecure_http,
            max_decompressed_bytes=expanded,
            jobs=jobs,
            job_memory_bytes=memory,
        )
        scheme = "http" if insecure_http else "https (through your proxy)"
        typer.echo(f"clearance: serving on {host}:{port}, {scheme} (data in {folder})")
        uvicorn.run(
            web,
            host=host,
            port=port,
            access_log=False,
            log_config=logging_config(),
            server_header=False,
        )
