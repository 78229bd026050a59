"""Stopping long-running tasks (core/cancellation.py): a task whose client
swallows one cancellation still stops, and a task that never stops is
reported, not waited on for ever."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from core.cancellation import raise_if_cancel_lost, stop_tasks


async def _swallows_the_first_cancellation(rounds: list[int]) -> None:
    """A loop whose awaited call returns normally although a cancellation
    arrived, then goes on to its next long wait, as a retry loop over
    redis-py on Python 3.11 can."""
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.sleep(3600)
    while True:
        rounds.append(1)
        await asyncio.sleep(3600)


async def test_a_task_that_swallows_one_cancellation_is_cancelled_again_until_it_stops() -> None:
    rounds: list[int] = []
    task = asyncio.create_task(_swallows_the_first_cancellation(rounds))
    await asyncio.sleep(0)

    still_running = await stop_tasks([task], within=2.0)

    assert still_running == set()
    assert task.cancelled()
    assert rounds == [1]  # it did go on after the first request


async def test_a_task_that_never_stops_is_returned_after_the_time_allowed() -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)

    still_running = await stop_tasks([task], within=0.2)

    assert still_running == {task}
    release.set()
    task.cancel()
    await asyncio.wait({task}, timeout=1.0)
    assert task.done()


async def test_finished_tasks_are_left_alone() -> None:
    task = asyncio.create_task(asyncio.sleep(0))
    await task
    assert await stop_tasks([task], within=0.1) == set()
    assert not task.cancelled()


async def test_a_lost_cancellation_is_raised_at_the_next_check() -> None:
    checked: list[str] = []

    async def loop_with_checks() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            checked.append("swallowed")
        raise_if_cancel_lost()
        checked.append("went on")

    task = asyncio.create_task(loop_with_checks())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert checked == ["swallowed"]


async def test_without_a_cancellation_the_check_lets_the_loop_go_on() -> None:
    async def one_round() -> str:
        raise_if_cancel_lost()
        return "went on"

    assert await asyncio.create_task(one_round()) == "went on"
