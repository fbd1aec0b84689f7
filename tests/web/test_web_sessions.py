"""Sessions that end: a copied cookie stops working after logout, a password change, or
disable-then-enable; the login form's rate limit; the users page's administration."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import select
from web_site import PASSWORD, Site, csrf_of, login

from clearance.store.models import AuditEntry, User
from clearance.store.users import MAX_FAILURES
from clearance.web.limits import PER_ACCOUNT


def _replay(site: Site, cookies: dict[str, str]) -> int:
    """A request with a copy of the cookie (another browser, another person)."""
    with site.client() as other:
        other.cookies.update(cookies)
        return other.get("/").status_code


def _user_id(site: Site, name: str) -> int:
    with site.app.state.sessions() as db:
        return int(db.execute(select(User.id).where(User.username == name)).scalar_one())


def _actions(site: Site) -> list[str]:
    with site.app.state.sessions() as db:
        return [e.action for e in db.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()]


def test_a_copied_cookie_dies_with_logout(site: Site) -> None:
    with site.client() as client:
        token = login(client, "attorney")
        copied = dict(client.cookies)
        assert _replay(site, copied) == 200
        assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert _replay(site, copied) == 303


def test_a_copied_cookie_dies_with_a_password_change_or_disable(site: Site) -> None:
    with site.client() as viewer, site.client() as admin:
        login(viewer, "viewer")
        copied = dict(viewer.cookies)
        token = login(admin, "admin")
        viewer_id = _user_id(site, "viewer")
        response = admin.post(
            f"/users/{viewer_id}/password",
            data={"csrf_token": token, "password": "a brand new password"},
        )
        assert response.status_code == 303
        assert _replay(site, copied) == 303

        login(viewer, "viewer", "a brand new password")
        copied = dict(viewer.cookies)
        assert admin.post(f"/users/{viewer_id}/disable", data={"csrf_token": token}).status_code
        assert admin.post(f"/users/{viewer_id}/enable", data={"csrf_token": token}).status_code
        assert _replay(site, copied) == 303, "enabling again must not revive old sessions"

        login(viewer, "viewer", "a brand new password")
        copied = dict(viewer.cookies)
        response = admin.post(
            f"/users/{viewer_id}/role", data={"csrf_token": token, "role": "attorney"}
        )
        assert response.status_code == 303
        assert _replay(site, copied) == 303
    actions = _actions(site)
    for action in ("user.password_set", "user.disabled", "user.enabled", "user.role_set"):
        assert action in actions


def test_parallel_logins_cannot_outrun_the_lock(site: Site) -> None:
    def attempt(password: str) -> int:
        with site.client() as client:
            page = client.get("/login")
            return client.post(
                "/login",
                data={
                    "username": "analyst",
                    "password": password,
                    "csrf_token": csrf_of(page.text),
                },
            ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(attempt, [f"guess-{i}" for i in range(PER_ACCOUNT - 1)]))
    assert set(codes) == {401}
    checked = [a for a in _actions(site) if a == "login.locked"]
    assert len(checked) == 1
    assert attempt(PASSWORD) == 401, "a locked account refuses the right password"


def test_the_login_form_is_rate_limited_per_account(site: Site) -> None:
    with site.client() as client:
        codes = []
        for _ in range(PER_ACCOUNT + 1):
            page = client.get("/login")
            codes.append(
                client.post(
                    "/login",
                    data={
                        "username": "nobody",
                        "password": "wrong",
                        "csrf_token": csrf_of(page.text),
                    },
                ).status_code
            )
    assert codes[:PER_ACCOUNT] == [401] * PER_ACCOUNT
    assert codes[-1] == 429


def test_admins_add_unlock_and_change_users(site: Site) -> None:
    with site.client() as admin:
        token = login(admin, "admin")
        response = admin.post(
            "/users",
            data={"csrf_token": token, "username": "newcomer", "role": "analyst", "password": "x"},
        )
        assert response.status_code == 400
        assert "at least 10 characters" in response.text
        assert 'value="newcomer"' in response.text, "the form keeps what was typed"
        response = admin.post(
            "/users",
            data={
                "csrf_token": token,
                "username": "newcomer",
                "role": "analyst",
                "password": "a long first password",
            },
        )
        assert response.status_code == 303
        assert "Added newcomer (analyst)" in admin.get("/users").text

        with site.client() as other:
            for _ in range(MAX_FAILURES):
                page = other.get("/login")
                other.post(
                    "/login",
                    data={
                        "username": "newcomer",
                        "password": "wrong",
                        "csrf_token": csrf_of(page.text),
                    },
                )
        page = admin.get("/users").text
        row = re.search(r'<tr id="user-newcomer">.*?</tr>', page, re.S)
        assert row and "locked until" in row.group(0) and "/unlock" in row.group(0)
        uid = _user_id(site, "newcomer")
        assert admin.post(f"/users/{uid}/unlock", data={"csrf_token": token}).status_code == 303
        with site.client() as other:
            login(other, "newcomer", "a long first password")
        assert (
            admin.post("/users/99999999999999999999/unlock", data={"csrf_token": token}).status_code
            == 404
        )
        assert (
            admin.post(f"/users/{uid}/role", data={"csrf_token": token, "role": "god"}).status_code
            == 400
        )
    assert {"user.added", "user.unlocked"} <= set(_actions(site))


def test_only_admins_administer_users(site: Site) -> None:
    with site.client() as client:
        token = login(client, "attorney")
        uid = _user_id(site, "viewer")
        for action in ("enable", "unlock", "role", "password"):
            response = client.post(f"/users/{uid}/{action}", data={"csrf_token": token})
            assert response.status_code == 403
        assert client.post("/users", data={"csrf_token": token}).status_code == 403


def test_cookie_without_a_server_session_is_refused(site: Site) -> None:
    client: TestClient
    with site.client() as client:
        login(client, "viewer")
        assert client.get("/").status_code == 200
        with site.app.state.sessions() as db:
            from clearance.store.models import WebSession

            for row in db.execute(select(WebSession)).scalars():
                db.delete(row)
            db.commit()
        assert client.get("/").status_code == 303
