"""The partner portal in a real browser: Debian's Chromium, headless, driven by Playwright,
against the real `crosspath serve`. Screenshots of every page go to test-artifacts/portal/.

Chromium is the system one (scripts/ensure-chromium installs it); Playwright's own browser
downloads are never used. The flags keep Chromium from reaching for the internet.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, expect, sync_playwright

from tests.test_server import CROSSPATH, Server, issue_key, start, stop

CHROMIUM = os.environ.get("CROSSPATH_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "portal"
FLAGS = [
    "--no-sandbox",  # Chromium refuses to run as root with its sandbox
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 375, "height": 740}


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run scripts/ensure-chromium"
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture
def server(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    # A person takes more than the default 3 seconds to fill the form; a script does not.
    monkeypatch.setenv("CROSSPATH_ACCESS_FORM_MIN_SECONDS", "0")
    monkeypatch.setenv("CROSSPATH_LOG_LEVEL", "WARNING")
    server = start(database_url)
    yield server
    stop(server)


class Browser:
    """Fresh Chromium profiles, each in its own --user-data-dir, and what they requested."""

    def __init__(self, playwright: Playwright, folder: Path, server: Server) -> None:
        self.playwright = playwright
        self.folder = folder
        self.server = server
        self.contexts: list[BrowserContext] = []
        self.requested: list[str] = []

    def page(self, **options: Any) -> Page:
        context = self.playwright.chromium.launch_persistent_context(
            str(self.folder / f"profile-{len(self.contexts)}"),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            **({"viewport": {"width": 1280, "height": 900}} | options),
        )
        self.contexts.append(context)
        context.on("request", lambda request: self.requested.append(request.url))
        return context.pages[0] if context.pages else context.new_page()

    def close(self) -> None:
        for context in self.contexts:
            context.close()

    def external_requests(self) -> list[str]:
        own = (self.server.url + "/", "data:", "about:")
        return [url for url in self.requested if not url.startswith(own)]


@pytest.fixture
def browser(playwright: Playwright, tmp_path: Path, server: Server) -> Iterator[Browser]:
    browser = Browser(playwright, tmp_path, server)
    yield browser
    browser.close()
    assert browser.external_requests() == []


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def crosspath(server: Server, *args: str) -> Any:
    """An operator's command, with --json, against the server's database."""
    result = subprocess.run(
        [CROSSPATH, *args, "--json"],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def fill_access_form(page: Page, email: str) -> None:
    page.get_by_label("Company").fill("Talent Bridge")
    page.get_by_label("Contact name").fill("Ada Martin")
    page.get_by_label("Work e-mail").fill(email)
    page.get_by_label("Platform or website").fill("https://ats.talentbridge.example")
    page.get_by_label("Expected number of JDs a month").fill("40")
    page.get_by_label("Anything else").fill("We plan to go live in March.")


def quick_start(page: Page) -> tuple[str, list[str]]:
    """The API base the front page tells to export, and its curl commands, as shown."""
    blocks = page.locator("#quick-start pre:not(.output) code").all_inner_texts()
    found = re.search(r"export CROSSPATH_API=(\S+)", blocks[0])
    assert found is not None, blocks[0]
    return found.group(1), [block for block in blocks if block.startswith("curl")]


def body_of(command: str) -> dict[str, Any]:
    found = re.search(r"-d '(.*)'", command, re.DOTALL)
    assert found is not None, command
    body: dict[str, Any] = json.loads(found.group(1))
    return body


def test_a_newcomer_gets_from_the_front_page_to_a_first_authenticated_call(
    server: Server, browser: Browser
) -> None:
    alice = issue_key(server, "Alice Recruiting")  # another partner, with a record of its own
    made = httpx.post(f"{server.url}/partners/v1/companies", json={"name": "A"}, headers=alice)
    assert made.status_code == 201
    page = browser.page()

    page.goto(server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Connect your recruitment platform to CrossPath"
    )
    expect(page.locator("#quick-start")).to_contain_text("Authorization: Apikey $CROSSPATH_KEY")
    screenshot(page, "01-front-page")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Field mapping").click()
    expect(page).to_have_url(f"{server.url}/field-mapping")
    page.get_by_label("Search codes and labels").fill("sao paulo")  # searched as you type
    expect(page.locator("#results code", has_text=re.compile("^br-sao-paulo$"))).to_be_visible()
    expect(page.locator("#results")).to_contain_text("São Paulo, Brazil")
    expect(page.locator("#search-status")).to_contain_text("match “sao paulo”")  # announced
    expect(page).to_have_url(f"{server.url}/field-mapping?q=sao+paulo&kind=")
    expect(page.locator("#results code", has_text=re.compile("^fr-paris$"))).to_have_count(0)
    screenshot(page, "02-field-mapping-search")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Get API Access").click()
    expect(page).to_have_url(f"{server.url}/get-access")
    screenshot(page, "03-access-form")

    fill_access_form(page, "ada.talentbridge.example")
    page.get_by_role("button", name="Request API access").click()
    error = page.locator("#email-error")
    expect(error).to_have_text(
        "Error: Work e-mail must be an e-mail address such as name@company.com."
    )
    expect(page.get_by_label("Work e-mail")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Company")).to_have_value("Talent Bridge")  # nothing is lost
    expect(page.locator(".error-message")).to_have_count(1)
    screenshot(page, "04-access-form-error")

    page.get_by_label("Work e-mail").fill("ada@talentbridge.example")
    page.get_by_role("button", name="Request API access").click()
    expect(page).to_have_url(re.compile(r"/access-requests/acr_[0-9A-Z]{26}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Thank you")
    request_id = page.locator("#request-id").inner_text()
    screenshot(page, "05-confirmation")

    pending = crosspath(server, "access-requests", "list", "--status", "pending")
    assert [(r["id"], r["email"]) for r in pending] == [(request_id, "ada@talentbridge.example")]
    approval = crosspath(server, "access-requests", "approve", request_id)
    assert set(approval) == {"partner_id", "key_id", "key"}

    page.reload()
    expect(page.locator("dl")).to_contain_text("Approved")
    screenshot(page, "06-request-approved")

    page.goto(server.url + "/#quick-start")
    api, commands = quick_start(page)
    assert api == f"{server.url}/partners/v1"
    headers = {"Authorization": f"Apikey {approval['key']}"}
    with httpx.Client(headers=headers, timeout=30) as http:
        first = http.get(f"{api}/companies")  # the quick start's first call
        assert first.status_code == 200, first.text
        assert first.json() == {"data": [], "next_cursor": None}  # not Alice's company
        company = http.post(f"{api}/companies", json=body_of(commands[1]))
        assert company.status_code == 201, company.text
        mission_body = body_of(commands[2]) | {"company_id": company.json()["id"]}
        mission = http.post(f"{api}/missions", json=mission_body)
        assert mission.status_code == 201, mission.text
        assert mission.json()["status"] == "private"
        patched = http.patch(f"{api}/missions/{mission.json()['id']}", json=body_of(commands[3]))
        assert patched.status_code == 200, patched.text
    assert httpx.get(f"{server.url}/partners/v1/companies", headers=alice).json()["data"] == [
        made.json()
    ]


def test_the_portal_works_without_javascript(server: Server, browser: Browser) -> None:
    page = browser.page(java_script_enabled=False)

    page.goto(server.url + "/field-mapping")
    page.get_by_label("Search codes and labels").fill("zurich")
    page.get_by_label("Kind", exact=True).select_option("locations")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/field-mapping\?q=zurich&kind=locations$"))
    expect(page.locator("#results code", has_text=re.compile("^ch-zurich$"))).to_be_visible()
    expect(page.locator("#kind-sectors")).to_have_count(0)
    screenshot(page, "nojs-field-mapping")

    page.goto(server.url + "/get-access")
    fill_access_form(page, "")
    page.get_by_role("button", name="Request API access").click()
    expect(page.locator("#email-error")).to_have_text("Error: Work e-mail is required.")
    expect(page.get_by_label("Anything else")).to_have_value("We plan to go live in March.")
    screenshot(page, "nojs-access-form-error")
    page.get_by_role("link", name="Work e-mail is required.").click()  # the summary's link
    expect(page.get_by_label("Work e-mail")).to_be_focused()

    page.get_by_label("Work e-mail").fill("ada@talentbridge.example")
    page.get_by_role("button", name="Request API access").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Thank you")
    screenshot(page, "nojs-confirmation")
    assert len(crosspath(server, "access-requests", "list")) == 1


FOCUS_RING = """element => {
  const style = getComputedStyle(element);
  return style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
}"""


def tab_to(page: Page, predicate: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const e = document.activeElement; return {predicate}; }})()"):
            return
    raise AssertionError(f"Tab never reached: {predicate}")


def test_everything_is_reachable_by_keyboard_with_a_visible_focus(
    server: Server, browser: Browser
) -> None:
    page = browser.page()
    page.goto(server.url + "/")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    page.goto(server.url + "/")
    tab_to(page, 'e.textContent.trim() === "Get API Access" && e.closest("nav") !== null')
    assert page.evaluate(f"({FOCUS_RING})(document.activeElement)")
    screenshot(page, "keyboard-focus")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{server.url}/get-access")

    tab_to(page, 'e.id === "company"')
    order = ["company"]
    for _ in range(6):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id || document.activeElement.type"))
    # The honeypot field is never reached.
    assert order == ["company", "contact_name", "email", "platform", "monthly_jds", "message",
                     "submit"]  # fmt: skip
    assert page.evaluate(f"({FOCUS_RING})(document.activeElement)")


CONTRAST = """selector => {
  const rgb = value => (value.match(/[\\d.]+/g) || []).map(Number);
  const channel = c => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = ([r, g, b]) =>
    0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = element => {
    for (let e = element; e; e = e.parentElement) {
      const color = rgb(getComputedStyle(e).backgroundColor);
      if (color.length === 3 || color[3] > 0) return color.slice(0, 3);
    }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll(selector)].map(element => {
    const text = luminance(rgb(getComputedStyle(element).color));
    const [a, b] = [text, luminance(background(element))];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  });
}"""


def test_text_has_enough_contrast(server: Server, browser: Browser) -> None:
    page = browser.page()
    checked = 0
    for path, selectors in [
        ("/", ["main p", "main li", "main a", ".button", ".nav a", "pre.code code", "td code",
               ".site-footer p"]),
        ("/field-mapping?q=paris", ["label", ".hint", "td", "th", ".count", ".summary"]),
    ]:  # fmt: skip
        page.goto(server.url + path)
        for selector in selectors:
            ratios = page.evaluate(f"({CONTRAST})({json.dumps(selector)})")
            assert ratios, selector
            assert min(ratios) >= 4.5, (path, selector, min(ratios))
            checked += len(ratios)
    page.goto(server.url + "/get-access")
    page.get_by_role("button", name="Request API access").click()
    for selector in [".error-message", ".error-summary a", "input"]:
        ratios = page.evaluate(f"({CONTRAST})({json.dumps(selector)})")
        assert ratios, selector
        assert min(ratios) >= 4.5, (selector, ratios)
    assert checked > 50


def test_every_page_fits_a_phone_screen(server: Server, browser: Browser) -> None:
    page = browser.page(viewport=PHONE, is_mobile=True, has_touch=True)
    for name, path in [
        ("front-page", "/"),
        ("field-mapping", "/field-mapping"),
        ("field-mapping-locations", "/field-mapping?q=paris&kind=locations"),
        ("access-form", "/get-access"),
    ]:
        page.goto(server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (path, width)
        screenshot(page, f"phone-{name}")
    page.get_by_role("button", name="Request API access").click()
    expect(page.locator(".error-message").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "phone-access-form-error")
