"""The change feed as an iterator that keeps its place.

`Feed(client, cursor)` yields every event after the stored cursor, oldest first, up to the
feed's current end; `follow()` goes on waiting for new ones. The cursor is saved once every
event of a page has been handed out, so a consumer that stops (or crashes) mid-page gets the
rest of that page again next time: at least once, never a gap. Events carry ids to drop a
repeat with.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from crosspath_client.client import Client
from crosspath_client.records import Event


class CursorStore(Protocol):
    def load(self) -> str | None: ...

    def save(self, cursor: str) -> None: ...


class FileCursor:
    """A cursor kept in a small text file, replaced atomically on every save."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> str | None:
        try:
            return self.path.read_text().strip() or None
        except FileNotFoundError:
            return None

    def save(self, cursor: str) -> None:
        write_atomically(self.path, cursor + "\n")


class MemoryCursor:
    def __init__(self, cursor: str | None = None, on_save: Callable[[str], None] | None = None):
        self.cursor = cursor
        self.on_save = on_save

    def load(self) -> str | None:
        return self.cursor

    def save(self, cursor: str) -> None:
        self.cursor = cursor
        if self.on_save is not None:
            self.on_save(cursor)


class Feed:
    def __init__(
        self, client: Client, cursor: CursorStore | str | os.PathLike[str] | None = None
    ) -> None:
        self.client = client
        if cursor is None or isinstance(cursor, str | os.PathLike):
            self.store: CursorStore = FileCursor(cursor) if cursor else MemoryCursor()
        else:
            self.store = cursor

    @property
    def cursor(self) -> str | None:
        return self.store.load()

    def __iter__(self) -> Iterator[Event]:
        for page in self.client.event_pages(after=self.store.load()):
            yield from page.data
            self.store.save(page.next_cursor)

    def follow(self, interval: float = 5.0) -> Iterator[Event]:
        """Every event, now and from now on, waiting `interval` seconds at the feed's end."""
        while True:
            yield from self
            time.sleep(interval)


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a crash leaves either the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
