"""Identifiers: prefixed ULIDs, Crockford base32, time-ordered and strictly increasing."""

from __future__ import annotations

import time
from itertools import pairwise

from crosspath.ids import is_id, new_id

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def decoded(ulid: str) -> int:
    value = 0
    for char in ulid:
        value = value * 32 + CROCKFORD.index(char)
    return value


def test_an_id_is_its_prefix_and_a_ulid_of_the_current_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    made = new_id("msn")
    after = time.time_ns() // 1_000_000
    assert is_id("msn", made)
    assert not is_id("cmp", made)
    prefix, ulid = made.split("_")
    assert prefix == "msn"
    assert len(ulid) == 26
    assert before <= decoded(ulid) >> 80 <= after  # the first 48 bits: milliseconds


def test_ids_made_one_after_the_other_are_strictly_increasing_and_never_repeat() -> None:
    made = [new_id("evt") for _ in range(5000)]  # many within one millisecond
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    values = [decoded(one.split("_")[1]) for one in made]
    assert all(later > earlier for earlier, later in pairwise(values))
