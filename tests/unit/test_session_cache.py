"""The per-process cache of login sessions (community/session_cache.py):
what it keeps, for how long, and that an old read never outlives a change.
Pure: a fake clock, no database."""

from __future__ import annotations

from community.access import Principal
from community.roles import Role
from community.session_cache import CachedSession, SessionCache

LIFETIME_S = 10.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _session(member_id: int, version: int = 0) -> CachedSession:
    principal = Principal(member_id=member_id, name="张三", home_organisation_id=1, grants=((1, Role.VOLUNTEER),))
    return CachedSession(principal=principal, session_version=version, active=True)


def _cache(clock: FakeClock, lifetime_s: float = LIFETIME_S, max_members: int = 100) -> SessionCache:
    return SessionCache(lambda: lifetime_s, max_members=max_members, clock=clock)


def test_a_member_is_served_from_memory_until_the_lifetime_runs_out() -> None:
    clock = FakeClock()
    cache = _cache(clock)
    cache.put(7, _session(7), generation=cache.generation)
    clock.now += LIFETIME_S - 0.001
    assert cache.get(7) == _session(7)
    clock.now += 0.001
    assert cache.get(7) is None
    assert cache.get(7) is None  # gone, not merely hidden


def test_a_read_that_started_before_a_change_is_not_kept() -> None:
    clock = FakeClock()
    cache = _cache(clock)
    before_the_read = cache.generation
    cache.forget(8)  # a change to anyone committed while the read was in flight
    cache.put(7, _session(7), generation=before_the_read)
    assert cache.get(7) is None
    cache.put(7, _session(7), generation=cache.generation)
    assert cache.get(7) == _session(7)


def test_forgetting_one_member_keeps_the_others() -> None:
    cache = _cache(FakeClock())
    for member_id in (1, 2):
        cache.put(member_id, _session(member_id), generation=cache.generation)
    cache.forget(1)
    assert cache.get(1) is None
    assert cache.get(2) == _session(2)


def test_while_disabled_nothing_is_served_or_kept_and_it_restarts_empty() -> None:
    cache = _cache(FakeClock())
    cache.put(1, _session(1), generation=cache.generation)
    cache.disable()
    assert cache.get(1) is None
    cache.put(2, _session(2), generation=cache.generation)
    assert cache.get(2) is None
    cache.enable()
    assert cache.get(1) is None and cache.get(2) is None
    cache.put(3, _session(3), generation=cache.generation)
    assert cache.get(3) == _session(3)


def test_a_lifetime_of_zero_keeps_nothing() -> None:
    cache = _cache(FakeClock(), lifetime_s=0)
    cache.put(1, _session(1), generation=cache.generation)
    assert cache.get(1) is None


def test_a_full_cache_drops_its_oldest_member_first() -> None:
    cache = _cache(FakeClock(), max_members=2)
    for member_id in (1, 2, 3):
        cache.put(member_id, _session(member_id), generation=cache.generation)
    assert cache.get(1) is None
    assert cache.get(2) == _session(2) and cache.get(3) == _session(3)
    cache.put(3, _session(3, version=1), generation=cache.generation)  # a refresh drops no one
    assert cache.get(2) == _session(2) and cache.get(3) == _session(3, version=1)
