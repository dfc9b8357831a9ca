"""Public ids are UUIDv7s that sort in the order this process made them (crm/public_ids.py), whether made
one at a time or a batch at once (the import makes 20,000 per batch): API lists ordered by id list rows
as they were created, and B-tree indexes on them only append."""

import threading
import time
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from crm import public_ids
from crm.public_ids import new_public_id, new_public_ids


def millisecond(one: uuid.UUID) -> int:
    return one.int >> 80


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3000), min_size=1, max_size=8))
def test_ids_made_singly_and_in_batches_are_version_7_unique_and_in_the_order_they_were_made(sizes):
    before = time.time_ns() // 1_000_000
    made: list[uuid.UUID] = []
    for size in sizes:
        made.extend(new_public_ids(size) if size != 1 else [new_public_id()])
    after = time.time_ns() // 1_000_000

    assert len(made) == sum(sizes)
    assert all(one.version == 7 and one.variant == uuid.RFC_4122 for one in made)
    assert len(set(made)) == len(made)
    assert made == sorted(made) and [str(one) for one in made] == sorted(str(one) for one in made)
    # The clock, not a counter run ahead: at most one borrowed millisecond per 2,048 ids made.
    assert all(before <= millisecond(one) <= after + len(made) // 2048 + 1 for one in made)


def test_ids_round_trip_through_text_and_compare_as_uuids_do():
    one = new_public_id()
    assert uuid.UUID(str(one)) == one and hash(uuid.UUID(str(one))) == hash(one)
    assert isinstance(one, uuid.UUID) and one.is_safe == uuid.SafeUUID.unknown


def test_a_millisecond_that_runs_out_of_counter_borrows_the_next_and_order_holds(monkeypatch):
    frozen = 1_800_000_000_000 * 1_000_000
    monkeypatch.setattr(public_ids, "_last", [0, 0])
    monkeypatch.setattr(public_ids.time, "time_ns", lambda: frozen)
    made = new_public_ids(10_000)
    assert made == sorted(made) and len(set(made)) == 10_000
    assert millisecond(made[0]) == frozen // 1_000_000
    assert millisecond(made[-1]) <= frozen // 1_000_000 + 10_000 // 2048 + 1


def test_a_clock_that_steps_back_does_not_break_the_order(monkeypatch):
    clock = [1_800_000_000_000 * 1_000_000]
    monkeypatch.setattr(public_ids, "_last", [0, 0])
    monkeypatch.setattr(public_ids.time, "time_ns", lambda: clock[0])
    first = new_public_ids(3)
    clock[0] -= 5_000 * 1_000_000  # NTP set the clock back five seconds
    later = new_public_ids(3) + [new_public_id()]
    assert first + later == sorted(first + later)


def test_threads_making_ids_at_once_never_make_the_same_one():
    made: list[list[uuid.UUID]] = [[] for _ in range(4)]

    def make(into: list) -> None:
        for _ in range(200):
            into.extend(new_public_ids(25))

    threads = [threading.Thread(target=make, args=(into,)) for into in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [one for into in made for one in into]
    assert len(set(every)) == len(every) == 4 * 200 * 25
    assert all(into == sorted(into) for into in made)
