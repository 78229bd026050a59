"""Loops that retry on errors must still stop when they are cancelled.

A long-running task (the member-change listener, a background job) keeps
going after a failed round: it logs the error and tries again. Some clients
catch the ``CancelledError`` thrown into them while they wait on a socket
and raise an error of their own instead (a connection error, say). A loop
that retries on that error swallows its own cancellation: the task never
ends, and whatever waits for it (an app's shutdown, ``asyncio.run`` closing
its loop) waits forever. This was seen as an intermittent hang of the test
suite on real Redis.

``stop_if_cancelled(error)`` in such a loop's ``except`` turns the error
back into the cancellation it hides. ``Task.cancelling()`` (Python 3.11)
counts the cancellation requests the task has not finished handling.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any


def being_cancelled() -> bool:
    """Has the running task been asked to stop (and not yet stopped)?"""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def stop_if_cancelled(error: BaseException) -> None:
    """Raise ``CancelledError`` (from ``error``) if the running task is being
    cancelled; otherwise return, and the caller handles ``error``."""
    if being_cancelled():
        raise asyncio.CancelledError from error


def raise_if_cancel_lost() -> None:
    """Raise ``CancelledError`` if the running task was asked to stop but the
    request was swallowed on the way (see ``stop_tasks``). A long loop calls
    this after each await that could have swallowed it."""
    if being_cancelled():
        raise asyncio.CancelledError


# How often ``stop_tasks`` repeats its request to a task that goes on.
CANCEL_AGAIN_SECONDS = 0.05


async def stop_tasks(tasks: Iterable[asyncio.Task[Any]], *, within: float) -> set[asyncio.Task[Any]]:
    """Cancel ``tasks`` and wait up to ``within`` seconds for them to end;
    return those still running.

    One ``cancel()`` is not always enough on Python 3.11: ``asyncio.wait_for``
    returns its inner result and drops the cancellation when the two arrive
    together (CPython gh-86296, fixed in 3.12), and redis-py wraps every
    command it sends in ``wait_for``. The member-change listener was seen
    to lose its cancellation that way while subscribing, and go on
    listening until its event loop closed, which could then wait forever.
    So the request is repeated until the task ends, and the loops also
    check ``raise_if_cancel_lost`` after each round."""
    pending = {task for task in tasks if not task.done()}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while pending:
        for task in pending:
            task.cancel()
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        _, pending = await asyncio.wait(pending, timeout=min(CANCEL_AGAIN_SECONDS, remaining))
    return pending
