"""Console sign-in over HTTP: the one-time link, cookies, CSRF, roles, idle timeout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.app import RUNTIME, build_app
from bot.store.console_departments import ConsoleDepartments
from bot.store.console_sessions import ConsoleSessionStore
from console.web import _purged_items
from tests.conftest import FakeSearch
from tests.console.conftest import Console, admin_link, console_settings, scalar, sign_in


async def test_pages_need_a_session(console: Console) -> None:
    anonymous: TestClient[Any, Any] = TestClient(console.client.server)
    try:
        for path in ("/console/usage", "/console/audit", "/console/policy",
                     "/console/audit/export?format=csv"):
            response = await anonymous.get(path, allow_redirects=False)
            assert response.status == 302, path
            assert response.headers["Location"].startswith("/console/login")
        refused = await anonymous.post("/console/audit/purge",
                                       data={"user": "teams:alice", "confirm": "teams:alice"})
        assert refused.status == 401
    finally:
        await anonymous.close()


async def test_a_link_works_once(console: Console) -> None:
    token = await admin_link(console.store)
    form = await (await console.client.get(f"/console/auth/link?token={token}")).text()
    assert token in form  # a confirmation page: link previews do not spend the token
    await sign_in(console.client, token)
    again = await console.client.post("/console/auth/link", data={"token": token})
    assert again.status == 403
    assert "déjà utilisé" in await again.text()


async def test_the_other_language_keeps_the_link_and_the_filters(console: Console) -> None:
    token = await admin_link(console.store)
    form = await (await console.client.get(f"/console/auth/link?token={token}")).text()
    switch = f'href="/console/auth/link?token={token}&amp;lang=en"'
    assert switch in form  # the English page can still open the session
    english = await (await console.client.get(f"/console/auth/link?token={token}&lang=en")).text()
    assert f'name="token" value="{token}"' in english and "Open the session" in english
    await sign_in(console.client, token)
    audit = await (await console.client.get("/console/audit?skill=qa&lang=en")).text()
    assert 'href="/console/audit?skill=qa&amp;lang=fr"' in audit
    assert "Local administrator · admin" in audit and "Administrateur" not in audit


async def test_the_session_cookie_is_secure_http_only_and_same_site(tmp_path: Path) -> None:
    settings = console_settings(tmp_path, secure_cookies=True)
    app = build_app(settings, knowledge=FakeSearch())  # type: ignore[arg-type]
    client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        token = await admin_link(app[RUNTIME].store)
        response = await client.post("/console/auth/link", data={"token": token},
                                     allow_redirects=False)
        cookie = response.cookies["almia_console"]
        assert cookie["httponly"] and cookie["secure"]
        assert cookie["samesite"] == "Lax" and cookie["path"] == "/console"
    finally:
        await client.close()


async def test_changes_need_the_csrf_token(console: Console) -> None:
    forged = await console.client.post("/console/audit/purge",
                                       data={"user": "teams:alice", "confirm": "teams:alice"})
    assert forged.status == 403
    assert await scalar(console.store, "SELECT count(*) FROM turns "
                        "WHERE user_id = 'teams:alice'") > 0
    await ConsoleDepartments(console.store.engine).save({"teams:alice": "Sinistres"})
    csrf = await console.csrf()
    unconfirmed = await console.client.post("/console/audit/purge", data={
        "user": "teams:alice", "confirm": "teams:alic", "csrf": csrf})
    assert unconfirmed.status == 400
    done = await console.client.post("/console/audit/purge", data={
        "user": "teams:alice", "confirm": "teams:alice", "csrf": csrf})
    assert done.status == 200
    assert await scalar(console.store, "SELECT count(*) FROM turns "
                        "WHERE user_id = 'teams:alice'") == 0
    assert await scalar(console.store, "SELECT count(*) FROM console_departments") == 0


async def test_filters_that_cannot_be_read_get_a_clear_page(console: Console) -> None:
    for path in ("/console/audit?until=9999-12-31", "/console/audit?since=2026-13-45",
                 "/console/audit?before=99999999999999999999999", "/console/audit?before=%C2%B2",
                 "/console/audit/export?format=csv&since=bad", "/console/audit/export?format=xml"):
        response = await console.client.get(path)
        assert response.status == 400, path
        assert "invalide" in (text := await response.text()) or "inconnu" in text, path
    for path in ("/console/audit/record/9223372036854775807",
                 "/console/audit/record/99999999999999999999999"):
        assert (await console.client.get(path)).status == 404, path


async def test_erasing_someone_the_store_does_not_know_says_so(console: Console) -> None:
    csrf = await console.csrf()
    done = await console.client.post("/console/audit/purge", data={
        "user": "web:nobody", "confirm": "web:nobody", "csrf": csrf})
    assert done.status == 200
    text = await done.text()
    assert "Aucune donnée trouvée pour" in text and "web:nobody" in text
    assert "Effacement fait" not in text
    erased = await console.client.post("/console/audit/purge", data={
        "user": "teams:alice", "confirm": "teams:alice", "csrf": csrf})
    said = await erased.text()
    assert "Effacement fait" in said and "messages" in said and "template_versions" not in said


def test_an_erasure_counts_one_in_the_singular() -> None:
    assert _purged_items({"conversations": 1, "turns": 3, "files": 0}, "fr") == [
        ("conversation", 1), ("messages", 3)]
    assert _purged_items({"feedback": 1, "jobs": 2}, "en") == [
        ("answer rating", 1), ("jobs", 2)]


async def test_every_view_and_export_is_audited(console: Console) -> None:
    before = await scalar(console.store, "SELECT count(*) FROM audit_events "
                          "WHERE action IN ('console_view', 'console_export')")
    await console.client.get("/console/usage?period=7d&skill=qa")
    await console.client.get("/console/audit/export?format=jsonl&action=message")
    rows = await scalar(console.store, "SELECT count(*) FROM audit_events "
                        "WHERE action IN ('console_view', 'console_export')")
    assert rows == before + 2
    details = await scalar(console.store, "SELECT details FROM audit_events WHERE action = "
                           "'console_view' ORDER BY id DESC LIMIT 1")
    assert '"skill": "qa"' in details and '"page": "usage"' in details


async def test_sign_out_ends_the_session(console: Console) -> None:
    csrf = await console.csrf("/console/usage")
    out = await console.client.post("/console/logout", data={"csrf": csrf},
                                    allow_redirects=False)
    assert out.status == 302
    assert (await console.client.get("/console/usage", allow_redirects=False)).status == 302


async def test_idle_sessions_end(console: Console) -> None:
    moments = [datetime.now(UTC)]
    sessions = ConsoleSessionStore(console.store.engine, clock=lambda: moments[-1])
    token, _ = await sessions.open("teams:x", "X", frozenset({"dpo"}), timedelta(hours=8))
    moments.append(moments[-1] + timedelta(minutes=20))
    assert await sessions.touch(token, timedelta(minutes=30)) is not None  # idle clock restarts
    moments.append(moments[-1] + timedelta(minutes=29))
    assert await sessions.touch(token, timedelta(minutes=30)) is not None
    moments.append(moments[-1] + timedelta(minutes=31))
    assert await sessions.touch(token, timedelta(minutes=30)) is None
    assert await sessions.touch(token, timedelta(minutes=30)) is None  # deleted


async def test_sessions_end_after_their_lifetime_and_links_expire(console: Console) -> None:
    moments = [datetime.now(UTC)]
    sessions = ConsoleSessionStore(console.store.engine, clock=lambda: moments[-1])
    token, _ = await sessions.open("teams:x", "X", frozenset({"dpo"}), timedelta(hours=1))
    link = await sessions.create_link(timedelta(minutes=15))
    for _ in range(5):  # active all along, but the lifetime is over
        moments.append(moments[-1] + timedelta(minutes=14))
    assert await sessions.touch(token, timedelta(minutes=30)) is None
    assert not await sessions.redeem_link(link)


async def test_a_champion_sees_usage_and_policy_only(tmp_path: Path) -> None:
    settings = console_settings(tmp_path)
    app = build_app(settings, knowledge=FakeSearch())  # type: ignore[arg-type]
    client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        sessions = ConsoleSessionStore(app[RUNTIME].store.engine)
        token, _ = await sessions.open("teams:champ", "Cam", frozenset({"champion"}),
                                       timedelta(hours=1))
        client.session.cookie_jar.update_cookies({"almia_console": token})
        assert (await client.get("/console/usage")).status == 200
        assert (await client.get("/console/policy")).status == 200
        for path in ("/console/audit", "/console/protection", "/console/audit/export"):
            assert (await client.get(path)).status == 403, path
        page = await (await client.get("/console/usage")).text()
        assert 'href="/console/audit"' not in page  # the menu hides what the role cannot open
    finally:
        await client.close()
