"""The state file: what CrossPath holds of each record, as far as this command last knew, and
where it left the change feed.

For each external id: the record's id, its status (missions), `seen` (the fingerprint of its
content on CrossPath), and `sent`/`answered` (the fingerprint of the line last sent, or found
equal, and of the content the server answered for it then). It is rewritten atomically after
every batch, so an interrupted run leaves a consistent file behind.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import msgspec

from crosspath_client.feed import write_atomically
from crosspath_client.sync.inputs import Kind

FORMAT = "crosspath-sync/1"


class Known(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    seen: str
    status: str | None = None
    sent: str | None = None
    answered: str | None = None

    def unchanged_since_sent(self, line: str) -> bool:
        return self.sent == line and self.answered == self.seen


class State(msgspec.Struct, kw_only=True):
    format: str = FORMAT
    url: str = ""
    account: str = ""
    cursor: str | None = None  # the change feed's position that `records` reflects
    covered: list[Kind] = []  # the kinds whose every record is in `records`
    companies: dict[str, Known] = {}
    missions: dict[str, Known] = {}

    def records(self, kind: Kind) -> dict[str, Known]:
        return self.companies if kind == "companies" else self.missions


def account_of(api_key: str) -> str:
    """A fingerprint of the key, to notice a state file used with another account."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


class StateFile:
    def __init__(self, path: Path | None, url: str, api_key: str) -> None:
        self.path = path
        self.url = url
        self.account = account_of(api_key)

    def load(self) -> State:
        if self.path is None or not self.path.exists():
            return self.fresh()
        state = msgspec.json.decode(self.path.read_bytes(), type=State)
        if (state.format, state.url, state.account) != (FORMAT, self.url, self.account):
            return self.fresh()  # another service or account: what it knew does not apply
        return state

    def fresh(self) -> State:
        return State(url=self.url, account=self.account)

    def save(self, state: State) -> None:
        if self.path is not None:
            write_atomically(self.path, msgspec.json.encode(state).decode() + "\n")
