"""The downloads page and "download all": distinct names that carry their folder, no internal
file listed, a line describing each file, and a streamed ZIP of the completed run with a
run.json that `clearance verify` accepts once unzipped."""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from pathlib import Path

from sqlalchemy import select
from test_web_filings import FILING
from web_site import DoneRun, login

from clearance.outputs.folder import verify_folder
from clearance.store.models import AuditEntry, Run
from clearance.web.bundle import BLOCK, zip_stream
from clearance.web.descriptions import describe
from clearance.web.files import download_name, is_internal, list_files

LINK = re.compile(r'<a href="/runs/\d+/files/([^"]+)" download="([^"]+)">([^<]+)</a>')


def _run_dir(done_run: DoneRun) -> Path:
    return done_run.site.data_dir / "runs" / str(done_run.run_id)


def _build_filings(done_run: DoneRun) -> None:
    with done_run.site.client() as client:
        token = login(client, "attorney")
        data = FILING | {"csrf_token": token, "include_pending": "yes"}
        response = client.post(f"/runs/{done_run.run_id}/filings", data=data)
        assert response.status_code == 303, response.text


def test_download_names_carry_their_folder_and_every_file_is_described(
    done_run: DoneRun,
) -> None:
    _build_filings(done_run)
    run_dir = _run_dir(done_run)
    # Working files of the run: Parquet tables, the build lock, a build in progress.
    assert (run_dir / "convictions.parquet").is_file()
    (run_dir / ".filings-build.lock").touch()
    (run_dir / ".build-x1").mkdir(exist_ok=True)
    (run_dir / ".build-x1" / "convictions.csv").write_text("partial\n", encoding="utf-8")
    with done_run.site.client() as client:
        login(client, "analyst")
        page = client.get(f"/runs/{done_run.run_id}/files").text
        links = LINK.findall(page)
        relatives = [relative for relative, _, _ in links]
        names = [name for _, name, _ in links]
        assert "convictions.csv" in relatives and "reviewed/convictions.csv" in relatives
        assert "reviewed-convictions.csv" in names and "convictions.csv" in names
        assert len(set(names)) == len(names), "two downloads share a name"
        assert all(shown == name for _, name, shown in links)
        for relative in relatives:
            assert not relative.endswith((".parquet", ".lock"))
            assert not relative.startswith(("record/", ".")) and "/." not in relative
        assert any(r.startswith("filings/") and r.endswith(".pdf") for r in relatives)
        for relative in relatives:
            assert describe(relative) in page.replace("&#39;", "'"), relative
        # The run's and the reviewed tables are told apart in words, not only by folder.
        assert describe("convictions.csv") != describe("reviewed/convictions.csv")

        saved = client.get(f"/runs/{done_run.run_id}/files/reviewed/convictions.csv")
        assert saved.status_code == 200
        assert 'filename="reviewed-convictions.csv"' in saved.headers["content-disposition"]
        # An internal file is still served by name to a role that may (the store reads it).
        assert client.get(f"/runs/{done_run.run_id}/files/convictions.parquet").status_code == 200


def test_internal_names_and_download_names() -> None:
    assert download_name("filings/motion-sacramento-dismiss-seal.pdf") == (
        "filings-motion-sacramento-dismiss-seal.pdf"
    )
    assert download_name("people.csv") == "people.csv"
    for internal in ("convictions.parquet", "record/counts.parquet", ".filings-build.lock",
                     ".build-1/convictions.csv", "reviewed/record/subjects.csv"):  # fmt: skip
        assert is_internal(internal), internal
    for listed in ("convictions.csv", "reviewed/people.csv", "filings/report.html"):
        assert not is_internal(listed), listed


def test_download_all_is_a_zip_of_the_listed_files_with_a_run_json(
    done_run: DoneRun, tmp_path: Path
) -> None:
    _build_filings(done_run)
    run_dir = _run_dir(done_run)
    for role in ("analyst", "viewer"):
        with done_run.site.client() as client:
            login(client, role)
            listed = LINK.findall(client.get(f"/runs/{done_run.run_id}/files").text)
            response = client.get(f"/runs/{done_run.run_id}/files.zip")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/zip"
        name = f"run-{done_run.run_id}-sacramento"
        assert f'filename="{name}.zip"' in response.headers["content-disposition"]
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        assert archive.testzip() is None
        members = [m.removeprefix(f"{name}/") for m in archive.namelist()]
        assert members[-1] == "run.json"
        assert sorted(members[:-1]) == sorted(relative for relative, _, _ in listed)
        assert ("results.csv" in members) == (role == "analyst")
        assert not any(m.endswith(".parquet") or m.startswith("record/") for m in members)
        for member in members[:-1]:
            assert archive.read(f"{name}/{member}") == (run_dir / member).read_bytes(), member
        manifest = json.loads(archive.read(f"{name}/run.json"))
        assert manifest["run"]["id"] == done_run.run_id
        assert manifest["run"]["as_of"] == "2024-01-01"
        assert manifest["total_files"] == len(members) - 1
        # Unzipped, the folder is whole by the same check as a run folder of the CLI.
        out = tmp_path / role
        archive.extractall(out)
        verified = verify_folder(out / name)
        assert verified.whole, (verified.missing, verified.changed, verified.extra)
        assert verified.files == len(members) - 1

    with done_run.site.app.state.sessions() as db:
        actions = [
            (e.actor, e.target)
            for e in db.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()
            if e.action == "file.download_all"
        ]
    assert ("viewer", f"run:{done_run.run_id}") in actions


def test_download_all_only_from_a_completed_run(done_run: DoneRun) -> None:
    site = done_run.site
    with site.app.state.sessions() as db:
        run = db.get(Run, done_run.run_id)
        assert run is not None
        run.status = "failed"
        db.commit()
    try:
        with site.client() as client:
            login(client, "admin")
            assert client.get(f"/runs/{done_run.run_id}/files.zip").status_code == 404
            assert client.get("/runs/99999999/files.zip").status_code == 404
            assert client.get(f"/runs/{2**70}/files.zip").status_code == 404
            page = client.get(f"/runs/{done_run.run_id}/files").text
            assert "files.zip" not in page
    finally:
        with site.app.state.sessions() as db:
            run = db.get(Run, done_run.run_id)
            assert run is not None
            run.status = "done"
            db.commit()


def test_the_zip_is_sent_as_it_is_made(tmp_path: Path) -> None:
    # 24 MB that do not compress: were the ZIP built whole first, it would come as one piece.
    (tmp_path / "big.csv").write_bytes(os.urandom(24 * 1024 * 1024))
    (tmp_path / "people.csv").write_text("subject_id\n1\n", encoding="utf-8")
    pieces = list(zip_stream(tmp_path, list_files(tmp_path), "run-1-x", {"id": 1}))
    assert len(pieces) >= 24
    assert max(len(piece) for piece in pieces) <= 2 * BLOCK
    archive = zipfile.ZipFile(io.BytesIO(b"".join(pieces)))
    assert archive.read("run-1-x/big.csv") == (tmp_path / "big.csv").read_bytes()
    assert json.loads(archive.read("run-1-x/run.json"))["total_files"] == 2
