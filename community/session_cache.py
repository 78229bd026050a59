"""What a login token's member currently is, kept in memory per process.

A token names a member (``sub``) and the session version it was issued
under (``sv``, ``api/community/auth.py``). Turning it into a ``Principal``
needs the member's name, home, roles, ``active`` flag and current session
version. Reading them per request was a member row and its grants on every
call (``bench/RESULTS.md``, the wallet read); this cache keeps them per
member for at most ``FENGLING_PRINCIPAL_CACHE_SECONDS``
(``community.access.principal_for_session`` reads and fills it).

Why in process and not in Redis: a Redis read per request is a round trip
and its client's CPU on every request, which is what the cache is there to
save; a member's principal is small and changes rarely.

How a change reaches every process, and when:

- Every service change that matters calls ``member_changed`` inside its
  transaction: a session version bump (password change or reset, logout,
  deactivation, removed role, invitation) and a granted or revoked role.
  After the commit (``core.database.after_commit``), this process forgets
  the member and each registered listener is told; the API registers one
  that publishes the member id on Redis, and every API process listening
  forgets that member (``api/session_events.py``). So a revoked session or
  a changed role takes effect on the next request everywhere, before the
  request that made the change has answered.
- A reader that started before such a commit may finish after it: a fill
  is stored only if nothing was forgotten while it read (``generation``),
  so an old read never outlives the change.
- Anything that bypasses the services (a row edited by hand, a message lost
  while Redis reconnects) is bounded by the entry's lifetime. While the
  listener is disconnected from Redis, the cache is off (every request reads
  the member); when it subscribes again, the cache starts empty.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.database import after_commit
from fengling_settings import get_settings

if TYPE_CHECKING:
    from community.access import Principal

# Members kept per process. A principal is a few hundred bytes; past this
# the oldest entries go first (they are the likeliest to have expired).
MAX_CACHED_MEMBERS = 20_000

ChangeListener = Callable[[int], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class CachedSession:
    """A member as a token check needs them."""

    principal: Principal
    session_version: int
    active: bool


class SessionCache:
    """Members by id, each for at most the configured lifetime. Single
    event loop per process: no locks needed."""

    def __init__(
        self,
        lifetime_seconds: Callable[[], float],
        *,
        max_members: int = MAX_CACHED_MEMBERS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lifetime_seconds = lifetime_seconds
        self._clock = clock
        # member id -> (when stored, by ``clock``; the member)
        self._members: dict[int, tuple[float, CachedSession]] = {}
        self._max_members = max_members
        self.generation = 0
        self.enabled = True

    def get(self, member_id: int) -> CachedSession | None:
        found = self._members.get(member_id)
        if found is None:
            return None
        stored_at, session = found
        if not self.enabled or self._clock() - stored_at >= self._lifetime_seconds():
            del self._members[member_id]
            return None
        return session

    def put(self, member_id: int, session: CachedSession, *, generation: int) -> None:
        """Keep ``session`` if nothing was forgotten since ``generation`` was
        taken (before the read that produced it)."""
        if generation != self.generation or not self.enabled or self._lifetime_seconds() <= 0:
            return
        if len(self._members) >= self._max_members and member_id not in self._members:
            del self._members[next(iter(self._members))]
        self._members[member_id] = (self._clock(), session)

    def forget(self, member_id: int) -> None:
        self.generation += 1
        self._members.pop(member_id, None)

    def clear(self) -> None:
        self.generation += 1
        self._members.clear()

    def disable(self) -> None:
        """Stop serving from memory (the change notifications are not arriving)."""
        self.enabled = False
        self.clear()

    def enable(self) -> None:
        """Serve from memory again, starting empty (notifications arrive again)."""
        self.clear()
        self.enabled = True


def _configured_lifetime() -> float:
    return get_settings().principal_cache_seconds


SESSIONS = SessionCache(_configured_lifetime)
"""This process's cache, for ``FENGLING_PRINCIPAL_CACHE_SECONDS``."""

_listeners: list[ChangeListener] = []


def add_change_listener(listener: ChangeListener) -> None:
    """Call ``listener(member_id)`` after each committed change to a member's
    sessions or roles (the API publishes it to the other processes)."""
    _listeners.append(listener)


def remove_change_listener(listener: ChangeListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


async def member_changed(member_id: int) -> None:
    """The member's sessions or roles change in the transaction in progress:
    once it commits, forget them here and tell the listeners."""

    async def committed() -> None:
        SESSIONS.forget(member_id)
        for listener in tuple(_listeners):
            await listener(member_id)

    await after_commit(committed)
