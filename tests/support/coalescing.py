"""Driving the coalescing repository from threads: a lookup in a thread of its own, the only
slot held, lookups queued behind a busy query."""

from __future__ import annotations

import threading
from collections.abc import Callable

from findsvc.domain import deadline
from findsvc.domain.model import Name, User
from findsvc.policies.coalescing import CoalescingRepository
from tests.unit.fakes import FakeStore


def in_thread(call: Callable[[], User]) -> tuple[threading.Thread, list[object]]:
    """Runs call in a thread; the list gets its result or the exception it raised."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(call())
        except Exception as error:
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def describe(outcome: object) -> str:
    return outcome.name.value if isinstance(outcome, User) else type(outcome).__name__


def queue_behind_a_busy_query(
    store: FakeStore, repo: CoalescingRepository, names: list[str]
) -> list[list[object]]:
    """Holds the first lookup inside the store, queues the others, then lets all go."""
    store.gate.clear()
    first, first_outcome = in_thread(lambda: repo.get(Name("KrishnaMohan")))
    assert store.entered.acquire(timeout=5)
    started = [in_thread(lambda n=name: repo.get(Name(n))) for name in names]
    while len(repo._queue) < len(names):  # they queue without touching the store
        threading.Event().wait(0.01)
    store.gate.set()
    first.join(5)
    for thread, _ in started:
        thread.join(5)
    assert first_outcome and isinstance(first_outcome[0], User)
    return [outcome for _, outcome in started]


def get_within(repo: CoalescingRepository, name: str, seconds: float) -> User:
    with deadline.deadline_in(seconds, set_by_caller=True):
        return repo.get(Name(name))


def hold_the_only_slot(store: FakeStore, repo: CoalescingRepository) -> threading.Thread:
    store.gate.clear()
    holder, _ = in_thread(lambda: repo.get(Name("KrishnaMohan")))
    assert store.entered.acquire(timeout=5)
    return holder
