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


def being_cancelled() -> bool:
    """Has the running task been asked to stop (and not yet stopped)?"""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def stop_if_cancelled(error: BaseException) -> None:
    """Raise ``CancelledError`` (from ``error``) if the running task is being
    cancelled; otherwise return, and the caller handles ``error``."""
    if being_cancelled():
        raise asyncio.CancelledError from error
