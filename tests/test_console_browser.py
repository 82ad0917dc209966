"""The operators' console in a real browser: Debian's Chromium, headless, driven by Playwright,
against the real `crosspath serve`, with the partner on the other side using the API over
real HTTP. Screenshots go to test-artifacts/console/.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests import test_portal_browser as portal_browser
from tests.test_portal_browser import CONTRAST, FOCUS_RING, PHONE, Browser, tab_to
from tests.test_server import CROSSPATH, Server, issue_key

# The portal's fixtures: Playwright with the system Chromium, the real server, fresh profiles
# that must request nothing from outside the service.
playwright = portal_browser.playwright
server = portal_browser.server
browser = portal_browser.browser
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "console"
EMAIL = "ops@crosspath.example"
PASSWORD = "correct horse battery staple"
DESCRIPTION = (
    "<h2>About the role</h2><p>Join a product team of eight.</p>"
    "<ul><li>Python and PostgreSQL</li><li>On call one week in six</li></ul>"
    '<p onmouseover="alert(1)">Apply <a href="https://clinica.example/jobs">on our site</a>'
    "<script>alert(2)</script></p>"
)


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def add_operator(server: Server) -> None:
    made = subprocess.run(
        [CROSSPATH, "operators", "create", EMAIL, "--password-stdin", "--json"],
        env=server.env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr


def private_jd(server: Server, headers: dict[str, str], title: str) -> dict[str, Any]:
    api = f"{server.url}/partners/v1"
    company = httpx.post(
        f"{api}/companies", headers=headers, json={"name": "Clinica Health", "sector": "healthcare"}
    )
    assert company.status_code == 201, company.text
    body = {
        "company_id": company.json()["id"],
        "title": title,
        "description": DESCRIPTION,
        "position": "software_engineering",
        "location": "fr-paris",
        "languages": ["fr"],
    }
    mission = httpx.post(f"{api}/missions", headers=headers, json=body)
    assert mission.status_code == 201, mission.text
    result: dict[str, Any] = mission.json()
    return result


def sign_in(page: Page, server: Server, path: str = "/console") -> None:
    page.goto(server.url + path)
    expect(page).to_have_url(re.compile(r"/console/login"))
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(server.url + path)


def test_an_operator_publishes_a_jd_and_the_partner_sees_it_live_and_closes_it(
    server: Server, browser: Browser
) -> None:
    add_operator(server)
    alice = issue_key(server, "Alice Recruiting")
    jd = private_jd(server, alice, "Senior Backend Engineer")
    page = browser.page()

    page.goto(server.url + "/console")
    expect(page).to_have_url(re.compile(r"/console/login$"))
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password").fill("not the right password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "The e-mail address or the password is not right."
    )
    screenshot(page, "01-sign-in-refused")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(server.url + "/console")
    expect(page.get_by_role("heading", level=1)).to_have_text("Review queue")
    row = page.locator("#queue tbody tr", has_text="Senior Backend Engineer")
    expect(row).to_contain_text("Alice Recruiting")
    expect(row).to_contain_text("Clinica Health")
    screenshot(page, "02-queue")

    row.get_by_role("link", name="Senior Backend Engineer").click()
    expect(page).to_have_url(f"{server.url}/console/missions/{jd['id']}")
    description = page.locator("#description")
    expect(description.get_by_role("heading", name="About the role")).to_be_visible()
    expect(description.get_by_role("listitem")).to_have_count(2)
    expect(description.get_by_role("link", name="on our site")).to_have_attribute(
        "href", "https://clinica.example/jobs"
    )
    assert description.locator("script, [onmouseover]").count() == 0
    expect(page.locator("#fields")).to_contain_text("Software Engineering software_engineering")
    expect(page.locator("#status")).to_have_text("private")
    screenshot(page, "03-jd")

    page.get_by_label("Reason").fill("Clear, complete and fair.")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_contain_text("This JD was published.")
    expect(page.locator("#status")).to_have_text("live")
    decision = page.locator("#history tbody tr").last
    for text in ("mission.updated", "crosspath", "status", "Clear, complete and fair."):
        expect(decision).to_contain_text(text)
    screenshot(page, "04-published")

    api = f"{server.url}/partners/v1/missions/{jd['id']}"
    live = httpx.get(api, headers=alice).json()
    assert live["status"] == "live"
    assert live["updated_at"] > jd["updated_at"]
    event = httpx.get(f"{server.url}/partners/v1/events", headers=alice).json()["data"][-1]
    assert (event["type"], event["actor"], event["data"]["changed"]) == (
        "mission.updated",
        "crosspath",
        ["status"],
    )
    assert event["data"]["reason"] == "Clear, complete and fair."
    closed = httpx.patch(api, headers=alice, json={"status": "closed"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    page.reload()
    expect(page.locator("#status")).to_have_text("closed")
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()
    expect(page.locator("#history tbody tr").last).to_contain_text("partner")

    page.get_by_role("navigation", name="Console").get_by_role("link", name="Audit log").click()
    entry = page.locator("#audit tbody tr", has_text="mission.publish")
    expect(entry).to_contain_text(EMAIL)
    expect(entry).to_contain_text("Clear, complete and fair.")
    expect(entry).to_contain_text("127.0.0.1")
    screenshot(page, "05-audit")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/console/login\?signed_out=1$"))
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.goto(f"{server.url}/console/missions/{jd['id']}")
    expect(page).to_have_url(re.compile(rf"/console/login\?next=/console/missions/{jd['id']}$"))
    screenshot(page, "06-signed-out")


def test_a_forged_form_is_refused_and_changes_nothing(server: Server, browser: Browser) -> None:
    add_operator(server)
    alice = issue_key(server, "Alice Recruiting")
    jd = private_jd(server, alice, "Nurse Manager")
    page = browser.page()
    sign_in(page, server, f"/console/missions/{jd['id']}")

    # What a page of another site would send: the form without the session's token.
    page.locator("input[name=csrf_token]").evaluate_all(
        "inputs => inputs.forEach(i => i.value = 'x')"
    )
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("alert")).to_contain_text("nothing was changed")
    screenshot(page, "07-csrf-refused")
    assert (
        httpx.get(f"{server.url}/partners/v1/missions/{jd['id']}", headers=alice).json()["status"]
        == "private"
    )
    page.goto(f"{server.url}/console/missions/{jd['id']}")
    expect(page.locator("#status")).to_have_text("private")


def test_the_console_works_without_javascript_by_keyboard_and_on_a_phone(
    server: Server, browser: Browser
) -> None:
    add_operator(server)
    alice = issue_key(server, "Alice Recruiting")
    jd = private_jd(server, alice, "Data Engineer")
    page = browser.page(java_script_enabled=False)
    sign_in(page, server)
    page.get_by_role("link", name="Data Engineer").click()
    page.get_by_role("button", name="Close").click()
    expect(page.locator("#status")).to_have_text("closed")
    screenshot(page, "nojs-closed")

    page.goto(server.url + "/console")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    tab_to(page, 'e.id === "partner"')
    assert page.evaluate(f"({FOCUS_RING})(document.activeElement)")
    screenshot(page, "keyboard-focus")

    checked = 0
    for path, selectors in [
        ("/console/login", ["label", ".lead", ".hint", ".button"]),
        ("/console/partners", ["td", "th", ".nav a", ".who", ".site-footer p"]),
        (f"/console/missions/{jd['id']}", ["dd", "dt", ".status", "#description p", ".button"]),
    ]:
        page.goto(server.url + path)
        for selector in selectors:
            ratios = page.evaluate(f"({CONTRAST})({json.dumps(selector)})")
            assert ratios, (path, selector)
            assert min(ratios) >= 4.5, (path, selector, min(ratios))
            checked += len(ratios)
    assert checked > 20

    phone = browser.page(viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in(phone, server)
    for name, path in [
        ("queue", "/console"),
        ("jd", f"/console/missions/{jd['id']}"),
        ("partners", "/console/partners"),
        ("audit", "/console/audit"),
        ("references", "/console/references?kind=company_sizes"),
        ("access-requests", "/console/access-requests"),
    ]:
        phone.goto(server.url + path)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (path, width)
        screenshot(phone, f"phone-{name}")
