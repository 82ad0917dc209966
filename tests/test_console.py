"""The operators' console over HTTP: who may open it, what its forms demand, and that what it
does reaches the partner. The real-browser journey is in test_console_browser.py."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, func, select, update

from crosspath.access import service as access_requests
from crosspath.api.app import create_app
from crosspath.console import audit, operators
from crosspath.console.signin import ACCOUNT_LIMIT, CLIENT_LIMIT, WRONG_CREDENTIALS
from crosspath.settings import Settings
from crosspath.store.tables import console_sessions, login_failures, missions
from crosspath.store.transaction import transaction
from crosspath.timestamps import utcnow
from tests.conftest import Partner, create_company, create_mission

EMAIL = "ops@crosspath.example"
PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')
PAGES = [
    "/console",
    "/console/missions/msn_x",
    "/console/access-requests",
    "/console/partners",
    "/console/partners/ptn_x",
    "/console/references",
    "/console/audit",
]


def add_operator(engine: Engine, email: str = EMAIL, password: str = PASSWORD) -> None:
    with transaction(engine, write=True) as conn:
        operators.create(conn, email, password)


@pytest.fixture
def operator(engine: Engine) -> str:
    add_operator(engine)
    return EMAIL


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found is not None, page.text
    return found.group(1)


def sign_in(
    client: TestClient[Any],
    email: str = EMAIL,
    password: str = PASSWORD,
    next_path: str = "/console",
) -> httpx.Response:
    token = csrf_of(client.get("/console/login"))
    form = {"csrf_token": token, "email": email, "password": password, "next": next_path}
    return client.post("/console/login", data=form, follow_redirects=False)


def signed_in(client: TestClient[Any], email: str = EMAIL) -> str:
    """Sign in; the session's CSRF token."""
    assert sign_in(client, email).status_code == 303
    return csrf_of(client.get("/console"))


def sessions_count(engine: Engine) -> int:
    with transaction(engine) as conn:
        return int(conn.scalar(select(func.count()).select_from(console_sessions)) or 0)


def status_of(engine: Engine, mission_id: str) -> str:
    with transaction(engine) as conn:
        return str(conn.scalar(select(missions.c.status).where(missions.c.id == mission_id)))


def audit_actions(engine: Engine) -> list[tuple[str, str, str | None, str]]:
    with transaction(engine) as conn:
        rows = audit.entries(conn)
    return [(e.actor, e.action, e.record_id, e.address) for e in reversed(rows)]


@pytest.fixture
def jd(client: TestClient[Any], alice: Partner) -> dict[str, Any]:
    return create_mission(client, "/partners/v1", alice)


# Who may open it


def test_every_console_page_without_a_session_redirects_to_sign_in(
    client: TestClient[Any], jd: dict[str, Any]
) -> None:
    for path in PAGES:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/console/login"), path
    assert client.get("/console/audit?before=x", follow_redirects=False).headers["location"] == (
        "/console/login?next=/console/audit%3Fbefore%3Dx"
    )
    response = client.post(
        f"/console/missions/{jd['id']}/decision",
        data={"decision": "publish"},
        follow_redirects=False,
    )
    assert (response.status_code, response.headers["location"]) == (303, "/console/login")


def test_signing_in_opens_a_session_in_a_cookie_scripts_and_other_sites_never_get(
    client: TestClient[Any], engine: Engine, operator: str
) -> None:
    response = sign_in(client, next_path="/console/partners")
    assert (response.status_code, response.headers["location"]) == (303, "/console/partners")
    session_cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("crosspath_console=")
    )
    token = session_cookie.split(";")[0].removeprefix("crosspath_console=")
    flags = {part.strip().lower() for part in session_cookie.split(";")[1:]}
    assert flags == {"httponly", "path=/console", "samesite=strict"}
    with transaction(engine) as conn:
        stored = conn.scalars(select(console_sessions.c.token_hash)).all()
    assert len(stored) == 1
    assert token not in stored[0]  # only a hash of the token is kept
    assert client.get("/console/partners").status_code == 200


def test_the_session_cookie_is_secure_in_production(settings: Settings, engine: Engine) -> None:
    add_operator(engine)
    production = Settings(
        database_url=settings.database_url, secret_key=settings.secret_key, environment="production"
    )
    app = create_app(production, engine)
    with TestClient(app=app, base_url="https://console.example") as client:
        page = client.get("/console/login")
        assert "secure" in page.headers["set-cookie"].lower()
        response = sign_in(client)
        assert response.status_code == 303
        assert all("; secure" in c.lower() for c in response.headers.get_list("set-cookie"))


def test_a_wrong_password_opens_no_session_and_never_says_which_part_was_wrong(
    client: TestClient[Any], engine: Engine, operator: str
) -> None:
    add_operator(engine, "gone@crosspath.example")
    with transaction(engine, write=True) as conn:
        operators.disable(conn, "gone@crosspath.example")
    for email, password in [
        (EMAIL, "not the password at all"),
        ("nobody@crosspath.example", PASSWORD),
        ("gone@crosspath.example", PASSWORD),  # a disabled operator
        (EMAIL, ""),
    ]:
        response = sign_in(client, email, password)
        assert response.status_code == 400, email
        assert WRONG_CREDENTIALS in response.text
        assert "crosspath_console=" not in response.headers.get("set-cookie", "")
    assert sessions_count(engine) == 0
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_repeated_failures_for_one_account_are_locked_out_even_with_the_right_password(
    client: TestClient[Any], engine: Engine, operator: str
) -> None:
    add_operator(engine, "other@crosspath.example")
    for _ in range(ACCOUNT_LIMIT):
        assert sign_in(client, password="guess guess guess").status_code == 400
    locked = sign_in(client)  # the right password, too late
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.text
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60
    assert sessions_count(engine) == 0
    assert sign_in(client, "other@crosspath.example").status_code == 303  # another account
    with transaction(engine, write=True) as conn:  # the window passes
        conn.execute(update(login_failures).values(created_at=utcnow() - timedelta(minutes=16)))
    assert sign_in(client).status_code == 303


def test_repeated_failures_from_one_client_are_locked_out_whatever_the_account(
    client: TestClient[Any], engine: Engine, operator: str
) -> None:
    for number in range(CLIENT_LIMIT):
        assert sign_in(client, f"guess{number}@crosspath.example").status_code == 400
    locked = sign_in(client)
    assert locked.status_code == 429
    assert "retry-after" in locked.headers
    assert sessions_count(engine) == 0


def test_the_sign_in_form_without_its_token_and_cookie_is_refused(
    client: TestClient[Any], engine: Engine, operator: str
) -> None:
    token = csrf_of(client.get("/console/login"))
    forms = [{}, {"csrf_token": "forged"}, {"csrf_token": token + "0"}]
    for extra in forms:
        form = {"email": EMAIL, "password": PASSWORD} | extra
        response = client.post("/console/login", data=form, follow_redirects=False)
        assert response.status_code == 403
        assert "nothing was sent" in response.text
    client.cookies.clear()  # the right token, from a browser that is not the one it was made for
    form = {"email": EMAIL, "password": PASSWORD, "csrf_token": token}
    assert client.post("/console/login", data=form, follow_redirects=False).status_code == 403
    assert sessions_count(engine) == 0
    with transaction(engine) as conn:
        assert conn.scalar(select(func.count()).select_from(login_failures)) == 0


def test_a_partner_api_key_never_opens_the_console(
    client: TestClient[Any], engine: Engine, alice: Partner, jd: dict[str, Any]
) -> None:
    for scheme in ("Bearer", "Apikey"):
        headers = {"Authorization": f"{scheme} {alice.key}"}
        for path in PAGES:
            response = client.get(path, headers=headers, follow_redirects=False)
            assert response.status_code == 303, path
        response = client.post(
            f"/console/missions/{jd['id']}/decision",
            headers=headers,
            data={"decision": "publish"},
            follow_redirects=False,
        )
        assert response.status_code == 303
    assert status_of(engine, jd["id"]) == "private"


# CSRF


def test_a_change_without_the_sessions_csrf_token_is_refused_and_changes_nothing(
    client: TestClient[Any], settings: Settings, engine: Engine, operator: str, jd: dict[str, Any]
) -> None:
    add_operator(engine, "other@crosspath.example")
    with TestClient(app=create_app(settings, engine)) as other:
        others_token = signed_in(other, "other@crosspath.example")
    token = signed_in(client)
    url = f"/console/missions/{jd['id']}/decision"
    for form in [{}, {"csrf_token": ""}, {"csrf_token": "forged"}, {"csrf_token": others_token}]:
        response = client.post(url, data={"decision": "publish"} | form, follow_redirects=False)
        assert response.status_code == 403
        assert "nothing was changed" in response.text
    response = client.post("/console/logout", data={}, follow_redirects=False)
    assert response.status_code == 403
    assert status_of(engine, jd["id"]) == "private"
    assert [a for _, a, _, _ in audit_actions(engine)] == ["operator.sign_in"] * 2
    ok = client.post(url, data={"decision": "publish", "csrf_token": token}, follow_redirects=False)
    assert ok.status_code == 303
    assert status_of(engine, jd["id"]) == "live"


# Sessions that end


def test_a_session_ends_after_the_idle_timeout_and_after_its_lifetime(
    client: TestClient[Any], engine: Engine, operator: str
) -> None:
    signed_in(client)
    with transaction(engine, write=True) as conn:
        conn.execute(update(console_sessions).values(last_seen_at=utcnow() - timedelta(minutes=29)))
    assert client.get("/console").status_code == 200  # seen again: the idle time starts over
    with transaction(engine, write=True) as conn:
        conn.execute(update(console_sessions).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    assert client.get("/console", follow_redirects=False).status_code == 303
    signed_in(client)
    with transaction(engine, write=True) as conn:
        conn.execute(update(console_sessions).values(created_at=utcnow() - timedelta(hours=13)))
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_the_idle_timeout_is_a_setting(settings: Settings, engine: Engine) -> None:
    add_operator(engine)
    short = Settings.from_env(
        {"CROSSPATH_DATABASE_URL": settings.database_url, "CROSSPATH_CONSOLE_IDLE_MINUTES": "5"}
    )
    assert short.console_idle_minutes == 5
    with TestClient(app=create_app(short, engine)) as client:
        signed_in(client)
        with transaction(engine, write=True) as conn:
            conn.execute(
                update(console_sessions).values(last_seen_at=utcnow() - timedelta(minutes=6))
            )
        assert client.get("/console", follow_redirects=False).status_code == 303


def test_signing_out_disabling_or_a_new_password_ends_the_session(
    client: TestClient[Any], engine: Engine, operator: str
) -> None:
    token = signed_in(client)
    cookie = client.cookies.get("crosspath_console")
    response = client.post("/console/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.headers["location"] == "/console/login?signed_out=1"
    assert "You are signed out." in client.get("/console/login?signed_out=1").text
    client.cookies.set("crosspath_console", cookie or "", path="/console")  # the old cookie again
    assert client.get("/console", follow_redirects=False).status_code == 303
    for end in (operators.reset_password, operators.disable):
        signed_in(client)
        with transaction(engine, write=True) as conn:
            if end is operators.reset_password:
                operators.reset_password(conn, EMAIL, "a brand new password")
            else:
                operators.disable(conn, EMAIL)
        assert client.get("/console", follow_redirects=False).status_code == 303
        if end is operators.reset_password:
            assert sign_in(client, password="a brand new password").status_code == 303
            with transaction(engine, write=True) as conn:
                operators.reset_password(conn, EMAIL, PASSWORD)


def test_after_sign_in_it_goes_back_to_the_page_asked_for_never_elsewhere(
    client: TestClient[Any], operator: str
) -> None:
    for wanted, landed in [
        ("/console/audit?before=x", "/console/audit?before=x"),
        ("//evil.example/", "/console"),
        ("https://evil.example", "/console"),
        ("/console//evil.example", "/console"),
        ("/consolex", "/console"),
    ]:
        response = sign_in(client, next_path=wanted)
        assert response.headers["location"] == landed, wanted


# What every page carries


def test_console_pages_carry_a_strict_policy_and_are_never_cached(
    client: TestClient[Any], operator: str
) -> None:
    login = client.get("/console/login")
    signed_in(client)
    for response in [login, client.get("/console"), client.get("/console/audit")]:
        csp = response.headers["content-security-policy"]
        assert csp.startswith("default-src 'none';")
        assert "script-src" not in csp  # so no script runs at all
        assert "frame-ancestors 'none'" in csp
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-frame-options"] == "DENY"
        assert not re.search(r"(src|href)=\"(https?:)?//", response.text)  # nothing external


def test_the_console_is_not_in_the_openapi_document(client: TestClient[Any]) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert paths
    assert not [path for path in paths if path.startswith("/console")]


# The review


def test_the_queue_lists_private_jds_oldest_first_with_their_partner_and_company(
    client: TestClient[Any], engine: Engine, operator: str, alice: Partner, bob: Partner
) -> None:
    base = "/partners/v1"
    first = create_mission(client, base, alice, title="Oldest at Alice")
    second = create_mission(
        client,
        base,
        bob,
        create_company(client, base, bob, name="Bob Co")["id"],
        title="Then at Bob",
    )
    third = create_mission(client, base, alice, first["company_id"], title="Newest at Alice")
    live = create_mission(client, base, alice, first["company_id"], title="Already live")
    signed_in(client)
    with transaction(engine, write=True) as conn:
        conn.execute(update(missions).where(missions.c.id == live["id"]).values(status="live"))
    page = client.get("/console").text
    titles = re.findall(r'<a href="/console/missions/(msn_\w+)">', page)
    assert titles == [first["id"], second["id"], third["id"]]
    row = page[page.index("Then at Bob") :].split("</tr>")[0]
    assert "Bob Headhunters" in row
    assert "Bob Co" in row
    assert second["created_at"][:10] in row
    assert second["updated_at"][11:19] in row
    mine = client.get(f"/console?partner={alice.id}").text
    assert re.findall(r'/console/missions/(msn_\w+)"', mine) == [first["id"], third["id"]]


def test_the_jd_page_shows_every_field_with_labels_and_the_description_as_html(
    client: TestClient[Any], engine: Engine, operator: str, alice: Partner
) -> None:
    description = (
        "<h2>About the role</h2><ul><li>Python</li></ul>"
        '<p onclick="steal()">Join <a href="https://clinica.example">us</a></p>'
    )
    jd = create_mission(
        client,
        "/partners/v1",
        alice,
        description=description,
        languages=["fr", "en"],
        openings=2,
        salary={"min": 65000, "max": 80000, "currency": "EUR", "period": "year"},
    )
    signed_in(client)
    page = client.get(f"/console/missions/{jd['id']}").text
    shown = page[page.index('id="description"') :].split("</div>")[0]
    assert "<h2>About the role</h2><ul><li>Python</li></ul>" in shown  # rendered, not escaped
    assert "onclick" not in page
    assert "steal" not in page
    for text in [
        "Software Engineering <code>software_engineering</code>",
        "Paris, France <code>fr-paris</code>",
        "French <code>fr</code>",
        "English <code>en</code>",
        "Healthcare &amp; Life Sciences <code>healthcare</code>",
        "51-200 employees <code>51-200</code>",
        "65,000 to 80,000 EUR a year",
        "Clinica Health",
        "Alice Recruiting",
        jd["id"],
        ">private<",
    ]:
        assert text in page, text
    history = page[page.index('id="history"') :].split("</table>")[0]
    assert "<code>mission.created</code></td><td>partner</td>" in history
    assert client.get("/console/missions/msn_01NOSUCHMISSION0000000000000").status_code == 404


def test_publishing_with_a_reason_makes_the_jd_live_for_the_partner_and_is_audited(
    client: TestClient[Any], engine: Engine, operator: str, alice: Partner, jd: dict[str, Any]
) -> None:
    token = signed_in(client)
    url = f"/console/missions/{jd['id']}/decision"
    form = {"csrf_token": token, "decision": "publish", "reason": "Clear and complete."}
    response = client.post(url, data=form, follow_redirects=False)
    assert response.headers["location"] == f"/console/missions/{jd['id']}?done=publish"
    assert "This JD was published." in client.get(response.headers["location"]).text
    seen = client.get(f"/partners/v1/missions/{jd['id']}", headers=alice.headers).json()
    assert seen["status"] == "live"
    assert seen["updated_at"] > jd["updated_at"]
    feed = client.get("/partners/v1/events", headers=alice.headers).json()["data"]
    decision = feed[-1]
    assert (decision["type"], decision["actor"]) == ("mission.updated", "crosspath")
    assert decision["data"]["changed"] == ["status"]
    assert decision["data"]["reason"] == "Clear and complete."
    page = client.get(f"/console/missions/{jd['id']}").text
    history = page[page.index('id="history"') :].split("</table>")[0]
    assert '<td>crosspath</td><td>status</td><td class="pre">Clear and complete.</td>' in history
    assert audit_actions(engine)[-1] == (EMAIL, "mission.publish", jd["id"], "testclient")
    again = client.post(url, data=form)  # a second tab, or a colleague, already decided
    assert again.status_code == 409
    assert "This JD is live: it cannot be published." in again.text
    closed = client.post(url, data=form | {"decision": "close", "reason": ""})
    assert closed.status_code == 200
    assert status_of(engine, jd["id"]) == "closed"
    with transaction(engine) as conn:
        entries = audit.entries(conn, record_id=jd["id"])
    assert [(e.action, e.detail) for e in entries] == [
        ("mission.close", None),
        ("mission.publish", "Clear and complete."),
    ]


# The rest of the day


def test_approving_an_access_request_shows_its_key_once_and_the_key_works(
    client: TestClient[Any], engine: Engine, operator: str
) -> None:
    body = {
        "company": "Talent Bridge",
        "contact_name": "Ada Martin",
        "email": "ada@tb.example",
        "platform": "HunterOn",
        "monthly_jds": 40,
    }
    with transaction(engine, write=True) as conn:
        first = access_requests.create(conn, body)
        second = access_requests.create(conn, body | {"company": "Spam Inc"})
    token = signed_in(client)
    listed = client.get("/console/access-requests").text
    assert "Talent Bridge" in listed
    assert "Spam Inc" in listed
    shown = client.post(f"/console/access-requests/{first.id}/approve", data={"csrf_token": token})
    key = re.search(r'id="api-key">(Recruitment-\w{32})<', shown.text)
    assert key is not None, shown.text
    assert (
        client.get(
            "/partners/v1/companies", headers={"Authorization": f"Apikey {key.group(1)}"}
        ).status_code
        == 200
    )
    for path in ["/console/access-requests?status=all", "/console/partners", "/console/audit"]:
        assert key.group(1) not in client.get(path).text
    no_reason = client.post(
        f"/console/access-requests/{second.id}/reject", data={"csrf_token": token, "reason": " "}
    )
    assert no_reason.status_code == 400
    rejected = client.post(
        f"/console/access-requests/{second.id}/reject",
        data={"csrf_token": token, "reason": "Not a recruiter."},
    )
    assert "The request was rejected." in rejected.text
    with transaction(engine) as conn:
        assert access_requests.get(conn, second.id).reason == "Not a recruiter."
    assert [a[1:3] for a in audit_actions(engine)[1:]] == [
        ("access_request.approve", first.id),
        ("access_request.reject", second.id),
    ]


def test_a_partners_keys_are_issued_once_revoked_and_the_partner_disabled(
    client: TestClient[Any], engine: Engine, operator: str, alice: Partner, bob: Partner
) -> None:
    token = signed_in(client)
    page = client.get(f"/console/partners/{alice.id}").text
    assert alice.key_id in page
    assert alice.key not in page
    issued = client.post(
        f"/console/partners/{alice.id}/keys", data={"csrf_token": token, "label": "production"}
    )
    new_key = re.search(r'id="api-key">(Recruitment-\w{32})<', issued.text)
    assert new_key is not None
    new_headers = {"Authorization": f"Apikey {new_key.group(1)}"}
    assert client.get("/partners/v1/companies", headers=new_headers).status_code == 200
    wrong = client.post(
        f"/console/partners/{bob.id}/keys/{alice.key_id}/revoke", data={"csrf_token": token}
    )
    assert wrong.status_code == 404  # not bob's key
    assert client.get("/partners/v1/companies", headers=alice.headers).status_code == 200
    revoked = client.post(
        f"/console/partners/{alice.id}/keys/{alice.key_id}/revoke", data={"csrf_token": token}
    )
    assert "The key was revoked" in revoked.text
    assert client.get("/partners/v1/companies", headers=alice.headers).status_code == 401
    disabled = client.post(f"/console/partners/{alice.id}/disable", data={"csrf_token": token})
    assert "The partner was disabled" in disabled.text
    assert client.get("/partners/v1/companies", headers=new_headers).status_code == 401
    assert client.get("/partners/v1/companies", headers=bob.headers).status_code == 200
    assert [a[1] for a in audit_actions(engine)[1:]] == [
        "key.issue",
        "key.revoke",
        "partner.disable",
    ]


def test_a_reference_file_is_previewed_before_it_is_applied(
    client: TestClient[Any], engine: Engine, operator: str
) -> None:
    token = signed_in(client)
    file = (
        b'{"kind": "company_sizes", "mode": "replace", "values": ['
        b'{"code": "51-200", "label": "51 to 200 people"}, {"code": "huge", "label": "Huge"}]}'
    )
    before = client.get("/console/references?kind=company_sizes").text
    preview = client.post(
        "/console/references/preview",
        data={"csrf_token": token},
        files={"file": ("sizes.json", file, "application/json")},
    )
    assert preview.status_code == 200, preview.text
    retired = preview.text[preview.text.index('id="retired"') :].split("</table>")[0]
    assert "1-10" in retired
    assert "51-200" not in retired
    assert "Would be added: 1" in preview.text
    assert "Would be relabelled or brought back: 1" in preview.text
    assert client.get("/console/references?kind=company_sizes").text == before  # nothing yet
    content = re.search(r'name="content" value="([^"]*)"', preview.text)
    fingerprint = re.search(r'name="fingerprint" value="(\w+)"', preview.text)
    assert content is not None
    assert fingerprint is not None
    form = {"csrf_token": token, "content": html.unescape(content.group(1))}
    stale = client.post("/console/references/apply", data=form | {"fingerprint": "0" * 64})
    assert "The reference set changed meanwhile" in stale.text  # and nothing applied
    assert client.get("/console/references?kind=company_sizes").text == before
    applied = client.post(
        "/console/references/apply", data=form | {"fingerprint": fingerprint.group(1)}
    )
    assert re.search(r"1 added, 1 updated, \d+ retired", applied.text), applied.text
    after = client.get("/console/references?kind=company_sizes").text
    assert "51 to 200 people" in after
    assert "1-10" not in after
    bad = client.post(
        "/console/references/preview",
        data={"csrf_token": token},
        files={"file": ("x.json", b"{nope", "application/json")},
    )
    assert bad.status_code == 400
    assert "not a valid reference file" in bad.text
    assert audit_actions(engine)[-1][1:3] == ("references.load", "company_sizes")


def test_the_audit_page_shows_who_did_what_to_which_record_from_where(
    client: TestClient[Any], engine: Engine, operator: str, jd: dict[str, Any]
) -> None:
    token = signed_in(client)
    client.post(
        f"/console/missions/{jd['id']}/decision",
        data={"csrf_token": token, "decision": "close", "reason": "Duplicate <b>JD</b>"},
    )
    page = client.get("/console/audit").text
    row = next(row for row in page.split("<tr>") if "mission.close" in row)
    for text in [EMAIL, jd["id"], "testclient", "Duplicate &lt;b&gt;JD&lt;/b&gt;"]:
        assert text in row, text
    filtered = client.get(f"/console/audit?record={jd['id']}").text
    assert "mission.close" in filtered
    assert "operator.sign_in" not in filtered


@pytest.fixture
def many_entries(engine: Engine) -> None:
    actor = audit.Actor("cli:test", "cli:host")
    with transaction(engine, write=True) as conn:
        for number in range(105):
            audit.record(conn, actor, "partner.create", f"ptn_{number}")


def test_the_audit_page_pages_back_in_time(
    client: TestClient[Any], operator: str, many_entries: None
) -> None:
    signed_in(client)
    first = client.get("/console/audit").text
    older = re.search(r'href="/console/audit\?before=(aud_\w+)"', first)
    assert older is not None
    second = client.get(f"/console/audit?before={older.group(1)}").text
    assert "ptn_0<" in second
    assert "ptn_0<" not in first
    assert "Older entries" not in second
