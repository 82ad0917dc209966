"""The layout's rules, checked on the source: what may import what.

Services and the kernel never import the web framework; `store/` and `api/` import no feature
(only `api/app.py` composes them); no feature imports another feature's routes.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent.parent / "src" / "crosspath"
FEATURES = (
    "accounts",
    "references",
    "companies",
    "missions",
    "access",
    "portal",
    "events",
    "webhooks",
    "console",
)
NOT_WEB_MODULES = (
    *("service", "schema", "review", "keys"),
    *("endpoints", "outbound", "signing", "queue", "delivery", "worker", "overview"),
)
FRAMEWORKS = ("litestar", "granian")


def modules() -> list[Path]:
    return sorted(p for p in SOURCE.rglob("*.py") if "migrations" not in p.parts)


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def package_of(path: Path) -> str:
    parts = path.relative_to(SOURCE).parts
    return parts[0] if len(parts) > 1 else ""


def name_of(path: Path) -> str:
    return ".".join(path.relative_to(SOURCE.parent).with_suffix("").parts)


def feature_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "crosspath" and parts[1] in FEATURES else None


NOT_WEB = [
    path for path in modules() if package_of(path) in ("", "store") or path.stem in NOT_WEB_MODULES
]


@pytest.mark.parametrize("path", NOT_WEB, ids=name_of)
def test_services_and_the_kernel_never_import_the_web_framework(path: Path) -> None:
    web = {name for name in imports_of(path) if name.split(".")[0] in FRAMEWORKS}
    assert not web, f"{name_of(path)} imports {sorted(web)}"


LOWER = [
    path
    for path in modules()
    if package_of(path) in ("", "store", "api") and name_of(path) != "crosspath.api.app"
]


@pytest.mark.parametrize("path", LOWER, ids=name_of)
def test_the_kernel_store_and_api_import_no_feature(path: Path) -> None:
    features = {name for name in imports_of(path) if feature_of(name)}
    assert not features, f"{name_of(path)} imports {sorted(features)}"


FEATURE_MODULES = [path for path in modules() if package_of(path) in FEATURES]


@pytest.mark.parametrize("path", FEATURE_MODULES, ids=name_of)
def test_no_feature_imports_another_features_routes(path: Path) -> None:
    own = package_of(path)
    routes = {
        name
        for name in imports_of(path)
        if feature_of(name) not in (None, own) and ".routes" in name
    }
    assert not routes, f"{name_of(path)} imports {sorted(routes)}"


def test_the_layout_has_every_feature_package() -> None:
    packages = {path.name for path in SOURCE.iterdir() if (path / "__init__.py").exists()}
    assert packages >= {*FEATURES, "store", "api", "cli"}
