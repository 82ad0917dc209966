"""The client as a partner gets it: `pip install ./client` in a fresh virtual environment, with
nothing of the server; and its webhook signature check, against signatures made by hand as the
Standard Webhooks scheme says."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from crosspath_client import Event, InvalidSignature, verify_webhook

ROOT = Path(__file__).resolve().parents[1]
SECRET = "whsec_" + base64.b64encode(b"a webhook signing secret, 32 b!").decode()
EVENT = {
    "id": "evt_01JD3B0RTSQ6V3J5M4F3K7Q8ZW",
    "type": "mission.updated",
    "created_at": "2026-12-02T10:00:00.000000Z",
    "actor": "crosspath",
    "data": {"object": {"id": "msn_1", "status": "live"}, "changed": ["status"],
             "reason": "Reviewed"},
}  # fmt: skip


def uv() -> str:
    found = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    assert Path(found).exists(), "uv is missing: scripts/test installs it"
    return found


def test_pip_install_of_the_client_folder_works_in_a_fresh_venv(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    env = os.environ | {"UV_PYTHON_DOWNLOADS": "never", "VIRTUAL_ENV": str(venv)}
    subprocess.run([uv(), "venv", "--quiet", "--python", sys.executable, str(venv)],
                   check=True, env=env)  # fmt: skip
    subprocess.run([uv(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
                    str(ROOT / "client")], check=True, env=env)  # fmt: skip
    python = str(venv / "bin" / "python")
    check = "import crosspath_client, importlib.util as u; print(crosspath_client.__version__, u.find_spec('crosspath'))"  # noqa: E501
    out = subprocess.run([python, "-c", check], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0.1.0", "None"]  # no server in there
    help_text = subprocess.run([str(venv / "bin" / "crosspath-sync"), "--help"],
                               capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "--url URL" in help_text
    assert "--dry-run" in help_text


def test_the_wheel_carries_what_pypi_shows(tmp_path: Path) -> None:
    subprocess.run([uv(), "build", "--quiet", "--wheel", "--sdist", "--out-dir", str(tmp_path),
                    str(ROOT / "client")], check=True,
                   env=os.environ | {"UV_PYTHON_DOWNLOADS": "never"})  # fmt: skip
    (wheel,) = tmp_path.glob("crosspath_client-0.1.0-py3-none-any.whl")
    assert list(tmp_path.glob("crosspath_client-0.1.0.tar.gz"))
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read("crosspath_client-0.1.0.dist-info/METADATA").decode()
        names = archive.namelist()
    assert "License-Expression: MIT" in metadata
    assert "Classifier: Programming Language :: Python :: 3.11" in metadata
    assert "Requires-Dist: standardwebhooks" in metadata
    assert "## Changelog" in metadata  # the README, shown as the project's page
    assert "crosspath_client/py.typed" in names
    assert not [name for name in names if name.startswith("crosspath/")]


def signed(body: bytes, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    """Headers as the Standard Webhooks scheme signs a delivery (written out, not the library)."""
    timestamp = str(at if at is not None else int(time.time()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{EVENT['id']}.{timestamp}.".encode() + body
    signature = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    return {"Webhook-Id": str(EVENT["id"]), "Webhook-Timestamp": timestamp,
            "Webhook-Signature": f"v1,{signature}"}  # fmt: skip


def test_a_signed_delivery_verifies_and_gives_the_event() -> None:
    body = json.dumps(EVENT).encode()
    event = verify_webhook(body, signed(body), SECRET)
    assert isinstance(event, Event)
    assert (event.id, event.type, event.actor) == (EVENT["id"], "mission.updated", "crosspath")
    assert event.data.reason == "Reviewed"


@pytest.mark.parametrize("tamper", ["body", "secret", "old"])
def test_a_delivery_that_was_not_signed_so_is_refused(tamper: str) -> None:
    body = json.dumps(EVENT).encode()
    headers = signed(body, at=int(time.time()) - 3600 if tamper == "old" else None)
    other = "whsec_" + base64.b64encode(b"another secret, also 32 bytes!!").decode()
    sent = body.replace(b"live", b"closed") if tamper == "body" else body
    with pytest.raises(InvalidSignature):
        verify_webhook(sent, headers, other if tamper == "secret" else SECRET)
