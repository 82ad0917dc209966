"""The console keeps the layout's rules: its services know nothing of HTTP, the lower layers
know nothing of it, and it uses other features only through their services."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_architecture import FRAMEWORKS, SOURCE, imports_of, modules, name_of

CONSOLE = SOURCE / "console"
# The modules that serve HTTP; every other console module is a service the CLI also uses.
WEB = {"web", "routes", "review_pages", "admin_pages"}
SERVICES = [path for path in CONSOLE.glob("*.py") if path.stem not in WEB | {"__init__"}]


@pytest.mark.parametrize("path", SERVICES, ids=name_of)
def test_the_consoles_services_never_import_the_web_framework(path: Path) -> None:
    web = {name for name in imports_of(path) if name.split(".")[0] in FRAMEWORKS}
    assert not web, f"{name_of(path)} imports {sorted(web)}"


def test_the_console_has_services_and_pages() -> None:
    assert {path.stem for path in SERVICES} >= {"operators", "sessions", "signin", "audit"}
    assert all((CONSOLE / f"{stem}.py").exists() for stem in WEB)


def test_only_the_app_and_the_command_line_use_the_console() -> None:
    users = {
        name_of(path)
        for path in modules()
        if CONSOLE not in path.parents
        and any(name.startswith("crosspath.console") for name in imports_of(path))
    }
    assert {user for user in users if not user.startswith("crosspath.cli.")} == {
        "crosspath.api.app"
    }


def test_the_console_uses_other_features_only_through_their_services() -> None:
    for path in CONSOLE.glob("*.py"):
        routes = {name for name in imports_of(path) if ".routes" in name or ".pages" in name}
        assert not {name for name in routes if not name.startswith("crosspath.console")}, path
