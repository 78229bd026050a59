"""In-process nudges: "something you follow has just committed".

A background job that follows committed rows (the leaderboards' feed)
polls on a timer; a nudge wakes it at once instead. A nudge is only a
hint: it carries nothing, may be lost (another process, a restart) or
arrive twice, and the job's own cursor decides what is new. Fire it from
``core.database.after_commit``, never inside the transaction.
"""

from __future__ import annotations

import asyncio


class Nudge:
    """One waiter-agnostic wake-up signal (per event loop)."""

    __slots__ = ("_events",)

    def __init__(self) -> None:
        self._events: dict[asyncio.AbstractEventLoop, asyncio.Event] = {}

    def _event(self) -> asyncio.Event:
        loop = asyncio.get_running_loop()
        event = self._events.get(loop)
        if event is None:
            # Loops of finished test runs are dropped with their events.
            self._events = {known: e for known, e in self._events.items() if not known.is_closed()}
            event = self._events[loop] = asyncio.Event()
        return event

    async def fire(self) -> None:
        self._event().set()

    async def wait(self, timeout_seconds: float) -> bool:
        """Wait for a nudge or the timeout; True if nudged."""
        event = self._event()
        try:
            await asyncio.wait_for(event.wait(), timeout_seconds)
        except TimeoutError:
            return False
        finally:
            event.clear()
        return True


awards_committed = Nudge()
"""Fired after the commit of a transaction that paid or took back an award."""
