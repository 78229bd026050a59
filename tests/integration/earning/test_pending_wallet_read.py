"""The wallet read and points pending review (``fraud.pending``): one
statement for a member with no open case, the wallet's statement and the
open cases' for a member with some, decided cases never listed, and both
statements read through the partial index of open cases on either engine,
so the read does not walk a member's decided cases."""

from __future__ import annotations

from typing import TypeVar

from community.access import load_principal
from community.accounts import open_wallet, wallet_code
from core.clock import utc_now
from core.fixed_sql import Dialect, FixedSql, Script, Step, dialect, fetch, read
from fraud import sql
from fraud.cases import close_case, get_case
from fraud.models import CaseStatus, Label, Subject
from fraud.pending import (
    _WALLET_AND_OPEN_CASE_FLAG,
    PendingReview,
    wallet_with_pending_reviews,
    wallet_with_pending_reviews_steps,
)
from fraud.tables import FraudCase
from ledger.account_view import MAX_VIEWED_HOLDS
from ledger.models import AccountView
from tests.integration.earning.test_review_queue import _case
from tests.support.earning_helpers import World

T = TypeVar("T")
WalletAndPending = tuple[AccountView | None, list[PendingReview]]


def _recording(script: Script[T], sent: list[FixedSql]) -> Script[T]:
    """``script``, noting each statement it sends."""
    step = next(script)
    while True:
        sent.append(step.statement)
        rows = yield step
        try:
            step = script.send(rows)
        except StopIteration as finished:
            result: T = finished.value
            return result


async def _read_counting(member_id: int) -> tuple[WalletAndPending, list[FixedSql]]:
    sent: list[FixedSql] = []
    result = await read(lambda _: _recording(wallet_with_pending_reviews_steps(member_id), sent))
    return result, sent


async def _decide(case_id: int, world: World) -> None:
    await close_case(
        await get_case(case_id),
        status=CaseStatus.APPROVED,
        reviewer_id=world.organizer,
        label=Label.LEGITIMATE,
        note="看过",
        now=utc_now(),
    )


async def test_a_member_with_only_decided_cases_reads_the_wallet_in_one_statement(world: World) -> None:
    member = world.volunteers[0]
    await open_wallet(member, world.grid)
    for due_in_hours in (1, 2):
        await _decide(await _case(world, score=50, rules=("burst",), due_in_hours=due_in_hours), world)

    (view, pending), sent = await _read_counting(member)

    assert view is not None and pending == []
    assert sent == [_WALLET_AND_OPEN_CASE_FLAG]


async def test_open_cases_are_listed_earliest_deadline_first_and_decided_ones_are_not(world: World) -> None:
    member = world.volunteers[0]
    await open_wallet(member, world.grid)
    late = await _case(world, score=50, rules=("burst",), due_in_hours=48)
    soon = await _case(world, score=50, rules=("burst",), due_in_hours=2)
    await _decide(await _case(world, score=50, rules=("burst",), due_in_hours=1), world)
    await _case(world, score=50, rules=("burst",), due_in_hours=1, member=world.volunteers[1])

    (view, pending), sent = await _read_counting(member)

    assert view is not None
    assert [review.case_id for review in pending] == [soon, late]
    assert all(review.subject is Subject.ACTIVITY for review in pending)
    assert sent == [_WALLET_AND_OPEN_CASE_FLAG, sql.OPEN_CASES_OF_MEMBER]


async def test_a_member_without_a_wallet_still_sees_their_open_cases(world: World) -> None:
    """No wallet row carries the flag: the cases are read anyway (and the
    volunteer's wallet is opened, as ``wallet_view_if_earner`` does)."""
    member = world.volunteers[0]
    case_id = await _case(world, score=50, rules=("burst",), due_in_hours=2)
    principal = await load_principal(member)

    view, pending = await wallet_with_pending_reviews(
        member, principal.home_organisation_id, (role for _, role in principal.grants)
    )

    assert view is not None and view.balance_minor == 0
    assert [review.case_id for review in pending] == [case_id]


async def _plan(statement: Step) -> str:
    if dialect() is Dialect.SQLITE:
        explain = FixedSql(postgres="", sqlite=f"EXPLAIN QUERY PLAN {statement.statement.sqlite}")
        return "\n".join(str(row["detail"]) for row in await fetch(explain(*statement.args)))
    # The plan a prepared statement settles on (generic), with sequential
    # scans priced out so the tiny test table does not decide the answer.
    text = statement.statement.postgres
    for number, value in enumerate(statement.args, 1):
        text = text.replace(f"${number}", f"${number}::{'text' if isinstance(value, str) else 'int'}")
    arguments = ", ".join(f"'{value}'" if isinstance(value, str) else str(value) for value in statement.args)
    db = FraudCase._meta.db
    async with db.transaction():
        await FraudCase.raw("SET LOCAL plan_cache_mode = force_generic_plan").run()
        await FraudCase.raw("SET LOCAL enable_seqscan = off").run()
        await FraudCase.raw("PREPARE pending_read AS " + text).run()
        rows = await FraudCase.raw(f"EXPLAIN EXECUTE pending_read({arguments})").run()
        await FraudCase.raw("DEALLOCATE pending_read").run()
    return "\n".join(str(row["QUERY PLAN"]) for row in rows)


async def test_both_statements_read_the_partial_index_of_open_cases(world: World) -> None:
    member = world.volunteers[0]
    await open_wallet(member, world.grid)
    for _ in range(3):
        await _decide(await _case(world, score=50, rules=("burst",), due_in_hours=1), world)
    await _case(world, score=50, rules=("burst",), due_in_hours=1)

    flag = await _plan(_WALLET_AND_OPEN_CASE_FLAG(wallet_code(member), MAX_VIEWED_HOLDS, member))
    cases = await _plan(sql.OPEN_CASES_OF_MEMBER(member))

    assert "fraud_case_open_member" in flag, flag
    assert "fraud_case_open_member" in cases, cases
    assert "ledger_hold_active_account" in flag, flag  # the wallet's own index, as before


async def test_the_flag_is_true_only_while_a_case_is_open(world: World) -> None:
    member = world.volunteers[0]
    wallet = await open_wallet(member, world.grid)
    statement = _WALLET_AND_OPEN_CASE_FLAG(wallet.code, MAX_VIEWED_HOLDS, member)
    case_id = await _case(world, score=50, rules=("burst",), due_in_hours=1, member=member)
    assert (await fetch(statement))[0]["has_open_case"]
    await _decide(case_id, world)
    assert not (await fetch(statement))[0]["has_open_case"]
    assert await FraudCase.count().where(FraudCase.member == member) == 1
