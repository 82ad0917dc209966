"""The partner portal over HTTP: the front page, the field mapping, and the "Get API Access"
form and endpoint (validation, anti-spam, per-client limit), without a browser."""

from __future__ import annotations

import csv
import html
import io
import re
import time
from html.parser import HTMLParser
from typing import Any

import anyio
import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, event, select

from crosspath.access import service as access_requests
from crosspath.access.routes import form_token
from crosspath.api.app import create_app
from crosspath.references import schema as reference_schema
from crosspath.references import service as references
from crosspath.settings import Settings, SettingsError
from crosspath.store import tables
from crosspath.store.transaction import transaction
from tests.conftest import BASE_PATHS, SECRET, Partner, company_body, error_of
from tests.contract import MISSING_API_KEY, MISSION_NOT_UPDATABLE, STATUS_NOT_LIVE

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
PAGES = ["/", "/field-mapping", "/field-mapping?q=paris&kind=locations", "/get-access"]


def valid_request(**overrides: Any) -> dict[str, Any]:
    return {
        "company": "Talent Bridge",
        "contact_name": "Ada Martin",
        "email": "ada@talentbridge.example",
        "platform": "HunterOn",
        "monthly_jds": 40,
    } | overrides


def form_fields(opened_seconds_ago: int = 60, **overrides: str) -> dict[str, str]:
    """What the page's form sends, opened some time ago."""
    fields = {name: str(value) for name, value in valid_request().items()}
    fields |= {"message": "", "leave_blank": ""}
    fields["opened"] = form_token(SECRET, int(time.time()) - opened_seconds_ago)
    return fields | overrides


def stored(engine: Engine) -> list[access_requests.AccessRequest]:
    with transaction(engine) as conn:
        return access_requests.list_requests(conn)


class Page(HTMLParser):
    """The parts of a page the tests look at: asset URLs, fields and their messages."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.assets: list[str] = []
        self.links: list[str] = []
        self.inputs: dict[str, dict[str, str | None]] = {}
        self.ids: dict[str, str] = {}
        self._open: list[str | None] = []  # the elements the parser is inside, by id
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("script", "img") and found.get("src"):
            self.assets.append(str(found["src"]))
        if tag == "link" and found.get("href"):
            self.assets.append(str(found["href"]))
        if tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))
        if tag in ("input", "textarea", "select") and found.get("name"):
            self.inputs[str(found["name"])] = found
        if found.get("id"):
            self.ids[str(found["id"])] = ""
        if tag not in VOID:
            self._open.append(str(found["id"]) if found.get("id") else None)

    def handle_data(self, data: str) -> None:
        for element in self._open:
            if element is not None:
                self.ids[element] += data

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()


# The front page


def test_the_front_page_explains_the_api_without_a_key(
    client: TestClient[Any], alice: Partner
) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = html.unescape(response.text)
    for fact in [
        "/partners/v1",
        "/partners/hunteron/v1",
        "Authorization: Apikey Recruitment-",
        MISSING_API_KEY,
        STATUS_NOT_LIVE,
        MISSION_NOT_UPDATABLE,
        "next_cursor",
        "<code>limit</code> is 1 to 100",
        "100000 requests in any 10 seconds per API key",  # the configured limit
        "Retry-After",
        "1 MiB",
        "GET /events?after=<cursor>",
        "Events are kept 30 days",
        "410",
        '"actor": "crosspath"',
        "POST /webhook-endpoints",
        "webhook-signature",
        "within 10 seconds",
    ]:
        assert fact in page, fact
    links = Page(response.text).links
    for target in ("/docs", "/field-mapping", "/get-access", "#quick-start"):
        assert target in links, target


def test_the_quick_start_uses_the_address_the_page_was_served_from(
    client: TestClient[Any], alice: Partner
) -> None:
    page = client.get("/", headers={"Host": "api.crosspath.example"}).text
    assert "export CROSSPATH_API=http://api.crosspath.example/partners/v1" in page
    commands = re.findall(r"curl [^<]*", page)
    assert len(commands) >= 4
    assert all("$CROSSPATH_API" in command for command in commands)
    assert all('Authorization: Apikey $CROSSPATH_KEY"' in command for command in commands)


def test_a_key_is_neither_needed_nor_looked_at_on_the_portal(
    client: TestClient[Any], engine: Engine, alice: Partner, bob: Partner
) -> None:
    key_statements: list[str] = []

    def watch(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "api_keys" in statement:
            key_statements.append(statement)

    event.listen(engine, "before_cursor_execute", watch)
    try:
        for path in PAGES:
            for headers in ({}, alice.headers, bob.headers, {"Authorization": "Apikey wrong"}):
                response = client.get(path, headers=headers)
                assert response.status_code == 200, path
                assert "RateLimit-Limit" not in response.headers
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    assert key_statements == []
    with transaction(engine) as conn:
        last_used = conn.execute(select(tables.api_keys.c.last_used_at)).scalars().all()
    assert last_used == [None, None]  # neither valid key was touched


def test_every_page_loads_only_assets_the_service_serves(
    client: TestClient[Any], alice: Partner
) -> None:
    for path in PAGES:
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assets = Page(response.text).assets
        assert any(url.endswith(".css") for url in assets)
        assert any(url.endswith(".js") for url in assets)
        for url in assets:
            assert url.startswith("/"), url
            assert not url.startswith("//"), url
            asset = client.get(url)
            assert asset.status_code == 200, url
            assert asset.content
    css = client.get("/static/portal/portal.css").text
    assert "@import" not in css
    assert "url(" not in css


def test_pages_are_labelled_for_assistive_technology(
    client: TestClient[Any], alice: Partner
) -> None:
    for path in PAGES:
        html = client.get(path).text
        assert '<html lang="en">' in html
        assert 'name="viewport"' in html
        assert '<a class="skip-link" href="#main">' in html
        assert '<main id="main"' in html
        assert html.count("<h1") == 1
        for field_id in re.findall(r'<(?:input|select|textarea) id="([^"]+)"', html):
            assert f'<label for="{field_id}">' in html, (path, field_id)


# The field mapping


def codes_on(html: str) -> set[str]:
    return set(re.findall(r"<tr><td><code>([^<]+)</code></td>", html))


def test_the_field_mapping_shows_every_kind_with_codes_and_labels(
    client: TestClient[Any], alice: Partner
) -> None:
    html = client.get("/field-mapping").text
    for kind in ("Sectors", "Locations", "Languages", "Positions", "Company sizes"):
        assert f">{kind} <span" in html, kind
    assert {"healthcare", "AD", "en", "software_engineering", "51-200"} <= codes_on(html)
    assert "<tr><td><code>healthcare</code></td><td>Healthcare &amp; Life Sciences</td>" in html
    for field in ("company.sector", "company.size", "mission.position", "mission.location"):
        assert f"<code>{field}</code>" in html


def test_the_field_mapping_offers_exactly_what_the_api_accepts(
    client: TestClient[Any], engine: Engine, alice: Partner, bob: Partner
) -> None:
    with transaction(engine, write=True) as conn:
        references.load(
            conn,
            reference_schema.ReferenceFile(
                kind="sectors",
                mode="replace",
                values=[
                    reference_schema.ReferenceItem("software", "Software & Internet"),
                    reference_schema.ReferenceItem("biotech", "Biotechnology"),
                ],
            ),
        )
    html = client.get("/field-mapping?kind=sectors").text
    assert codes_on(html) == {"software", "biotech"}  # healthcare is retired: not offered
    rows = list(csv.reader(io.StringIO(client.get("/field-mapping.csv?kind=sectors").text)))
    assert [row[1] for row in rows[1:]] == ["software", "biotech"]
    for base in BASE_PATHS:
        for partner in (alice, bob):
            listed = client.get(f"{base}/references/sectors", headers=partner.headers).json()
            assert {item["code"] for item in listed["data"]} == codes_on(html)
            refused = client.post(
                f"{base}/companies", json=company_body(sector="healthcare"), headers=partner.headers
            )
            assert refused.status_code == 400
            assert "sector" in error_of(refused)


def test_the_field_mapping_search_ignores_case_accents_and_separators(
    client: TestClient[Any], alice: Partner
) -> None:
    assert "ch-zurich" in codes_on(client.get("/field-mapping?q=ZURICH").text)
    assert "br-sao-paulo" in codes_on(client.get("/field-mapping?q=são paulo").text)
    assert "br-sao-paulo" in codes_on(client.get("/field-mapping?q=sao-paulo").text)
    found = codes_on(client.get("/field-mapping?q=software engineering").text)
    assert found == {"software_engineering"}
    empty = client.get("/field-mapping?q=no-such-value-anywhere").text
    assert codes_on(empty) == set()
    assert "0 values match" in empty


def test_the_field_mapping_filters_by_kind(client: TestClient[Any], alice: Partner) -> None:
    html = client.get("/field-mapping?q=e&kind=company_sizes").text
    assert 'id="kind-company_sizes"' in html
    assert 'id="kind-locations"' not in html
    assert 'id="kind-sectors"' not in html
    assert codes_on(html) == {"1-10", "11-50", "51-200", "201-500", "501-1000",
                              "1001-5000", "5001-10000", "10001+"}  # fmt: skip
    assert '<option value="company_sizes" selected>' in html
    everything = client.get("/field-mapping?kind=no-such-kind").text
    assert 'id="kind-locations"' in everything
    assert 'id="kind-sectors"' in everything


def test_a_long_kind_is_paged_and_every_value_can_be_reached(
    client: TestClient[Any], engine: Engine, alice: Partner
) -> None:
    with transaction(engine) as conn:
        languages = [item.code for item in references.current(conn, "languages")]
    overview = client.get("/field-mapping").text
    assert len(codes_on(overview) & set(languages)) == 50
    assert 'href="/field-mapping?kind=languages"' in overview
    seen: list[str] = []
    page, url = 1, "/field-mapping?kind=languages&page=1"
    while True:
        html = client.get(url).text
        seen += re.findall(r"<tr><td><code>([^<]+)</code></td>", html)
        following = re.search(r'href="([^"]+)" rel="next"', html)
        if following is None:
            break
        page += 1
        url = following.group(1).replace("&amp;", "&")
        assert f"page={page}" in url
    assert seen == languages


def test_a_page_number_out_of_range_shows_the_nearest_page(
    client: TestClient[Any], alice: Partner
) -> None:
    for page in ("999", "9" * 5000):
        last = client.get(f"/field-mapping?kind=locations&page={page}")
        assert last.status_code == 200
        assert "Page 33 of 33" in last.text
        assert 'rel="next"' not in last.text
    for page in ("0", "-1", "two"):
        first = client.get(f"/field-mapping?kind=locations&page={page}")
        assert first.status_code == 200
        assert "Page 1 of 33" in first.text


def test_the_field_mapping_downloads_as_csv(client: TestClient[Any], alice: Partner) -> None:
    response = client.get("/field-mapping.csv?q=paris")
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["kind", "code", "label", "country"]
    assert ["locations", "fr-paris", "Paris, France", "FR"] in rows


# The access request endpoint, in JSON


def test_a_json_request_is_stored_and_returned(
    client: TestClient[Any], engine: Engine, alice: Partner
) -> None:
    response = client.post(
        "/access-requests", json=valid_request(message="Go-live in March.\nThanks!")
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert re.fullmatch(r"acr_[0-9A-Z]{26}", body["id"])
    assert body | {"id": "x", "created_at": "x"} == valid_request() | {
        "id": "x",
        "created_at": "x",
        "message": "Go-live in March.\nThanks!",
        "status": "pending",
        "decided_at": None,
        "reason": None,
        "partner_id": None,
    }
    assert [r.id for r in stored(engine)] == [body["id"]]


def test_what_a_request_says_is_shown_as_text_never_as_markup(
    client: TestClient[Any], engine: Engine, alice: Partner
) -> None:
    sent = valid_request(company="<script>alert(1)</script>", message="<img src=x onerror=y>")
    created = client.post("/access-requests", json=sent)
    assert created.status_code == 201
    page = client.get(f"/access-requests/{created.json()['id']}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert "<img src=x" not in page


def test_a_json_request_names_every_wrong_field_and_stores_nothing(
    client: TestClient[Any], engine: Engine, alice: Partner
) -> None:
    response = client.post(
        "/access-requests",
        json={"email": "not-an-email", "monthly_jds": 0, "platform": "  ", "fax": "1"},
    )
    assert response.status_code == 400
    assert error_of(response) == (
        "fax is not a known field; company is required; contact_name is required; "
        "email must be an e-mail address such as name@company.com; platform is required; "
        "monthly_jds must be between 1 and 1000000."
    )
    wrong_types = client.post(
        "/access-requests", json=valid_request(monthly_jds="40", company=["x"])
    )
    assert error_of(wrong_types) == "company must be a string; monthly_jds must be an integer."
    assert stored(engine) == []


@pytest.mark.parametrize(
    "email",
    ["ada", "ada@", "@company.com", "ada@company", "ada @company.com", "ada@company.c",
     "ada@-company.com", "a@b@company.com", "ada@company..com"],
)  # fmt: skip
def test_an_address_that_is_not_an_email_is_refused(
    client: TestClient[Any], engine: Engine, alice: Partner, email: str
) -> None:
    response = client.post("/access-requests", json=valid_request(email=email))
    assert response.status_code == 400
    assert "email must be an e-mail address" in error_of(response)
    assert stored(engine) == []


def test_the_endpoint_takes_only_json_or_a_form(
    client: TestClient[Any], engine: Engine, alice: Partner
) -> None:
    response = client.post(
        "/access-requests", content=b"company=x", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert error_of(response) == (
        "Content-Type must be application/json or application/x-www-form-urlencoded."
    )
    broken = client.post(
        "/access-requests", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert error_of(broken) == "The request body is not valid JSON."
    assert stored(engine) == []


def test_the_endpoint_lives_outside_the_partner_base_paths(
    client: TestClient[Any], engine: Engine, alice: Partner, bob: Partner
) -> None:
    for base in BASE_PATHS:
        assert client.post(f"{base}/access-requests", json=valid_request()).status_code == 401
        inside = client.post(f"{base}/access-requests", json=valid_request(), headers=bob.headers)
        assert inside.status_code == 404
    assert stored(engine) == []


# The access form


def test_a_form_post_is_stored_and_leads_to_its_confirmation_page(
    client: TestClient[Any], engine: Engine, alice: Partner
) -> None:
    response = client.post(
        "/access-requests",
        data=form_fields(message="Line one\r\nLine two"),
        follow_redirects=False,
    )
    assert response.status_code == 303
    (saved,) = stored(engine)
    assert response.headers["location"] == f"/access-requests/{saved.id}"
    assert saved.monthly_jds == 40
    assert saved.message == "Line one\r\nLine two"
    page = client.get(response.headers["location"])
    assert page.status_code == 200
    ids = Page(page.text).ids
    assert ids["request-id"] == saved.id
    assert "Thank you" in page.text
    assert "ada@talentbridge.example" in page.text
    unknown = client.get("/access-requests/acr_01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert unknown.status_code == 404
    assert "Request not found" in unknown.text


def test_a_wrong_field_gets_its_message_next_to_it_and_every_value_is_kept(
    client: TestClient[Any], engine: Engine, alice: Partner
) -> None:
    sent = form_fields(email="ada.talentbridge.example", monthly_jds="about forty",
                       message="Keep <this> & that")  # fmt: skip
    response = client.post("/access-requests", data=sent)
    assert response.status_code == 400
    page = Page(response.text)
    assert page.ids["email-error"].strip() == (
        "Error: Work e-mail must be an e-mail address such as name@company.com."
    )
    assert page.ids["monthly_jds-error"].strip() == (
        "Error: Expected number of JDs a month must be an integer."
    )
    assert "company-error" not in page.ids
    assert page.inputs["email"]["aria-invalid"] == "true"
    assert "email-error" in str(page.inputs["email"]["aria-describedby"])
    for name in ("company", "contact_name", "email", "platform", "monthly_jds"):
        assert page.inputs[name]["value"] == sent[name], name
    assert page.ids["message"] == "Keep <this> & that"
    assert page.inputs["opened"]["value"] == sent["opened"]  # the form keeps its age
    assert "<title>Error: Get API Access" in response.text
    assert stored(engine) == []


def test_a_form_sent_right_after_it_was_opened_is_not_stored_but_kept(
    settings: Settings, engine: Engine, alice: Partner
) -> None:
    patient = Settings(**{**settings_fields(settings), "access_form_min_seconds": 3600})
    with TestClient(app=create_app(patient, engine)) as client:
        opened = Page(client.get("/get-access").text).inputs["opened"]["value"]
        response = client.post("/access-requests", data=form_fields(opened=str(opened)))
        assert response.status_code == 400
        assert "within seconds of being opened" in response.text
        assert Page(response.text).inputs["company"]["value"] == "Talent Bridge"
        assert stored(engine) == []
        later = form_fields(opened=form_token(SECRET, int(time.time()) - 3700))
        accepted = client.post("/access-requests", data=later, follow_redirects=False)
        assert accepted.status_code == 303
    assert len(stored(engine)) == 1


def test_a_filled_honeypot_or_a_made_up_form_stores_nothing(
    client: TestClient[Any], engine: Engine, alice: Partner
) -> None:
    trapped = client.post("/access-requests", data=form_fields(leave_blank="http://spam.example"))
    assert trapped.status_code == 400
    assert "meant to catch automated submissions" in trapped.text
    assert Page(trapped.text).inputs["leave_blank"]["value"] == ""
    for opened in ("", "12345.deadbeef", form_token("another-secret", int(time.time()) - 60)):
        forged = client.post("/access-requests", data=form_fields(opened=opened))
        assert forged.status_code == 400
        assert "expired" in forged.text
        fresh = str(Page(forged.text).inputs["opened"]["value"])
        assert fresh != opened
        assert fresh.split(".")[0].isdigit()
    assert stored(engine) == []


def test_the_form_page_carries_a_fresh_signed_opening_time(
    client: TestClient[Any], alice: Partner
) -> None:
    before = int(time.time())
    page = Page(client.get("/get-access").text)
    opened = str(page.inputs["opened"]["value"])
    issued = int(opened.split(".")[0])
    assert before <= issued <= int(time.time())
    assert opened == form_token(SECRET, issued)
    assert page.inputs["leave_blank"]["tabindex"] == "-1"
    assert set(page.inputs) >= {"company", "contact_name", "email", "platform", "monthly_jds",
                                "message"}  # fmt: skip


# Per-client rate limit


def settings_fields(settings: Settings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in Settings.__dataclass_fields__}


@pytest.fixture
def limited_app(settings: Settings, engine: Engine) -> Any:
    return create_app(Settings(**{**settings_fields(settings), "access_request_limit": 2}), engine)


def post_from(app: Any, address: str, **kwargs: Any) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://portal") as http:
            return await http.post("/access-requests", **kwargs)

    return anyio.run(send)


def test_each_client_may_send_only_a_few_requests(
    limited_app: Any, engine: Engine, alice: Partner
) -> None:
    assert post_from(limited_app, "192.0.2.1", json=valid_request()).status_code == 201
    assert post_from(limited_app, "192.0.2.1", json={}).status_code == 400  # counts too
    refused = post_from(limited_app, "192.0.2.1", json=valid_request())
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert error_of(refused).startswith("Too many access requests from your address: at most 2")
    form = post_from(limited_app, "192.0.2.1", data=form_fields())
    assert form.status_code == 429
    assert "Too many access requests" in form.text
    assert Page(form.text).inputs["email"]["value"] == "ada@talentbridge.example"
    assert post_from(limited_app, "192.0.2.2", json=valid_request()).status_code == 201
    assert len(stored(engine)) == 2


def test_the_access_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "CROSSPATH_ACCESS_REQUEST_LIMIT": "3",
            "CROSSPATH_ACCESS_REQUEST_WINDOW": "60",
            "CROSSPATH_ACCESS_FORM_MIN_SECONDS": "0",
        }
    )
    assert (settings.access_request_limit, settings.access_request_window) == (3, 60)
    assert settings.access_form_min_seconds == 0
    assert Settings.from_env({}).access_form_min_seconds == 3
    with pytest.raises(SettingsError, match="CROSSPATH_ACCESS_REQUEST_LIMIT must be at least 1"):
        Settings.from_env({"CROSSPATH_ACCESS_REQUEST_LIMIT": "0"})
    with pytest.raises(SettingsError, match="CROSSPATH_ACCESS_FORM_MIN_SECONDS must be at least"):
        Settings.from_env({"CROSSPATH_ACCESS_FORM_MIN_SECONDS": "-1"})
