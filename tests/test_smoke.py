from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.conftest import Partner, create_mission


def test_a_partner_creates_a_company_and_a_mission(
    client: TestClient[Any], base: str, alice: Partner
) -> None:
    mission = create_mission(client, base, alice)
    assert mission["status"] == "private"
    response = client.get(f"{base}/missions/{mission['id']}", headers=alice.headers)
    assert response.json() == mission
