"""activities/deadline_rules and activities/calendar: due times on the
working-day calendar, the stages, what a step does to a deadline and what
an escalation does, without a database (every call gets its moment).

Moved here from the integration tests, where they ran against a truncated
database they never used.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from activities.calendar import CHINA_ZONE, CalendarError, WorkCalendar, add_working_days
from activities.deadline_rules import (
    KEEP_DEADLINE,
    NO_DEADLINE,
    DeadlinePolicy,
    Stage,
    accept_due,
    deadline_after,
    deadline_policy,
    escalation_step,
    finish_due,
    overdue_stage,
    stage_of,
)
from activities.models import Kind, Status
from fengling_settings import get_settings

POLICY = DeadlinePolicy()  # 1 / 3 / 5 working days, Monday to Friday only


def cst(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=CHINA_ZONE)


# 2026-11-20 is a Friday; 21/22 the weekend; 23 Monday.
FRIDAY_3PM = cst(2026, 11, 20, 15)
MONDAY_3PM = cst(2026, 11, 23, 15)


# --- the calendar and the due dates ----------------------------------------------------------------


def test_friday_submission_is_due_on_monday_same_clock_time() -> None:
    """1 working day after Friday 15:00 is Monday 15:00; the weekend does not count."""
    assert accept_due(FRIDAY_3PM, policy=POLICY) == MONDAY_3PM
    assert accept_due(cst(2026, 11, 23, 9), policy=POLICY) == cst(2026, 11, 24, 9)


def test_weekend_submission_starts_the_clock_on_monday_morning() -> None:
    """Sent on Saturday, received Monday 00:00: the whole of Monday to accept it."""
    assert accept_due(cst(2026, 11, 21, 10), policy=POLICY) == cst(2026, 11, 24, 0)
    assert add_working_days(cst(2026, 11, 22, 23, 59), 0, WorkCalendar()) == cst(2026, 11, 23, 0)


def test_holidays_are_skipped_and_makeup_saturdays_count() -> None:
    """National Day week (1-7 Oct) is off, Saturday 10 Oct is a make-up working day (调休)."""
    calendar = WorkCalendar(
        holidays=frozenset(date(2026, 10, day) for day in range(1, 8)), makeup_workdays=frozenset({date(2026, 10, 10)})
    )
    policy = DeadlinePolicy(calendar=calendar)
    # Wednesday 30 Sep 15:00 + 1 → Thursday 1 Oct is a holiday … the next working day is Thursday 8 Oct.
    assert accept_due(cst(2026, 9, 30, 15), policy=policy) == cst(2026, 10, 8, 15)
    # Friday 9 Oct 15:00 + 1 → the make-up Saturday 10 Oct counts.
    assert accept_due(cst(2026, 10, 9, 15), policy=policy) == cst(2026, 10, 10, 15)
    # Submitted on holiday Saturday 3 Oct: the clock starts Thursday 8 Oct 00:00.
    assert accept_due(cst(2026, 10, 3, 11), policy=policy) == cst(2026, 10, 9, 0)
    # A plain Friday → Monday 23 Nov still, holidays elsewhere change nothing.
    assert accept_due(FRIDAY_3PM, policy=policy) == MONDAY_3PM


def test_complex_reports_get_five_working_days_others_three() -> None:
    """Finishing: 3 working days, 5 for a complex case (both skip the weekend)."""
    monday_10 = cst(2026, 11, 23, 10)
    assert finish_due(monday_10, complex=False, policy=POLICY) == cst(2026, 11, 26, 10)
    assert finish_due(monday_10, complex=True, policy=POLICY) == cst(2026, 11, 30, 10)
    assert finish_due(FRIDAY_3PM, complex=False, policy=POLICY) == cst(2026, 11, 25, 15)


def test_stage_of_each_status() -> None:
    """Deadlines run while waiting to be accepted, and (reports only) to be handled."""
    assert stage_of("service", "submitted") == stage_of("patrol", "submitted") == "accept"
    assert stage_of("report", "verified") == stage_of("report", "assigned") == "finish"
    assert stage_of("service", "verified") is None  # service logs and patrols end at verified
    assert stage_of("patrol", "checked_in") is None
    for status in ("handled", "closed", "rejected"):
        assert stage_of("report", status) is None


def test_naive_or_absurd_arguments_are_refused() -> None:
    """A start without a zone, negative or huge day counts, and a self-contradicting calendar raise."""
    with pytest.raises(CalendarError, match="time zone"):
        add_working_days(datetime(2026, 11, 20, 15), 1, WorkCalendar())  # noqa: DTZ001 (the point of the test)
    with pytest.raises(CalendarError, match="days must be"):
        add_working_days(FRIDAY_3PM, -1, WorkCalendar())
    with pytest.raises(CalendarError, match="days must be"):
        add_working_days(FRIDAY_3PM, 61, WorkCalendar())
    with pytest.raises(CalendarError, match="both a holiday and a make-up"):
        WorkCalendar(holidays=frozenset({date(2026, 10, 10)}), makeup_workdays=frozenset({date(2026, 10, 10)}))
    never = WorkCalendar(holidays=frozenset(date(2026, 12, 1) + timedelta(days=n) for n in range(40)))
    with pytest.raises(CalendarError, match="no working day"):
        add_working_days(cst(2026, 12, 1, 9), 1, never)


# --- the calendar's properties ---------------------------------------------------------------------

_DAYS = st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31))
_STARTS = st.datetimes(
    min_value=datetime(2026, 1, 1),  # noqa: DTZ001 (hypothesis adds the zones below)
    max_value=datetime(2027, 12, 31),  # noqa: DTZ001
    timezones=st.sampled_from([CHINA_ZONE, UTC]),
)


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    holidays = draw(st.frozensets(_DAYS, max_size=40))
    makeup = draw(st.frozensets(_DAYS.filter(lambda day: day.weekday() >= 5), max_size=10))
    return WorkCalendar(holidays=holidays - makeup, makeup_workdays=makeup)


@settings(max_examples=300, deadline=None)
@given(start=_STARTS, days=st.integers(0, 20), calendar=calendars())
def test_deadline_lands_on_a_working_day_after_start(start: datetime, days: int, calendar: WorkCalendar) -> None:
    """The deadline's China-time date is a working day; it is never before the
    start and strictly after it for ≥ 1 day; exactly ``days`` working days lie
    after the day the clock started, up to and including the deadline's day;
    on a working day the clock time is kept."""
    due = add_working_days(start, days, calendar)
    local_start, local_due = start.astimezone(CHINA_ZONE), due.astimezone(CHINA_ZONE)
    assert calendar.is_working_day(local_due.date())
    assert due >= start and (days == 0 or due > start)
    clock_day = local_start.date()
    if calendar.is_working_day(clock_day):
        assert local_due.time() == local_start.time()
    else:  # the clock starts at 00:00 of the first working day after the start
        while not calendar.is_working_day(clock_day):
            clock_day += timedelta(days=1)
        assert local_due.time() == datetime.min.time()
    # Working days after the day the clock started, up to the deadline's day.
    between = [clock_day + timedelta(days=n) for n in range(1, (local_due.date() - clock_day).days + 1)]
    assert sum(calendar.is_working_day(day) for day in between) == days


@settings(max_examples=300, deadline=None)
@given(
    first=_STARTS,
    gap=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
    days=st.integers(0, 15),
    more=st.integers(0, 5),
    calendar=calendars(),
)
def test_deadline_is_monotonic_and_composes(
    first: datetime, gap: timedelta, days: int, more: int, calendar: WorkCalendar
) -> None:
    """A later start never gives an earlier deadline; more days always give a
    later one; and counting a + b days equals counting a, then b."""
    later = first + gap
    assert add_working_days(first, days, calendar) <= add_working_days(later, days, calendar)
    if more:
        assert add_working_days(first, days, calendar) < add_working_days(first, days + more, calendar)
    assert add_working_days(add_working_days(first, days, calendar), more, calendar) == add_working_days(
        first, days + more, calendar
    )


# --- settings ---------------------------------------------------------------------------------------


@pytest.fixture
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Lets a test change FENGLING_* and re-read; the cache is cleared again afterwards."""
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_deadline_settings_reach_the_policy(fresh_settings: pytest.MonkeyPatch) -> None:
    """FENGLING_HOLIDAYS / MAKEUP_WORKDAYS / *_WORKING_DAYS are what accept_due and finish_due count with."""
    fresh_settings.setenv("FENGLING_HOLIDAYS", "2026-11-23, 2026-11-24,")
    fresh_settings.setenv("FENGLING_MAKEUP_WORKDAYS", "2026-11-22")
    fresh_settings.setenv("FENGLING_COMPLEX_WORKING_DAYS", "7")
    policy = deadline_policy()
    assert policy.complex_days == 7 and policy.accept_days == 1 and policy.finish_days == 3
    # Friday → make-up Sunday 22 Nov counts; Mon 23 and Tue 24 are holidays.
    assert accept_due(FRIDAY_3PM) == cst(2026, 11, 22, 15)
    assert finish_due(FRIDAY_3PM, complex=False) == cst(2026, 11, 26, 15)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("FENGLING_HOLIDAYS", "2026-10-01,2026-13-01", "FENGLING_HOLIDAYS must list dates like 2026-10-01"),
        ("FENGLING_HOLIDAYS", "2026/10/01", "FENGLING_HOLIDAYS must list dates"),
        ("FENGLING_MAKEUP_WORKDAYS", "2026-10-12", "must be Saturdays or Sundays; 2026-10-12"),
        ("FENGLING_ACCEPT_WORKING_DAYS", "0", "FENGLING_ACCEPT_WORKING_DAYS must be 1-60"),
        ("FENGLING_FINISH_WORKING_DAYS", "three", "FENGLING_FINISH_WORKING_DAYS must be an integer"),
    ],
)
def test_bad_deadline_settings_stop_start_up_with_a_clear_message(
    fresh_settings: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    """A typo in a date or day count names the variable and the bad value."""
    fresh_settings.setenv(name, value)
    with pytest.raises(SystemExit, match=message):
        get_settings()


def test_a_day_both_holiday_and_makeup_is_refused(fresh_settings: pytest.MonkeyPatch) -> None:
    """The two lists must not contradict each other."""
    fresh_settings.setenv("FENGLING_HOLIDAYS", "2026-10-10")
    fresh_settings.setenv("FENGLING_MAKEUP_WORKDAYS", "2026-10-10")
    with pytest.raises(SystemExit, match="both list 2026-10-10"):
        get_settings()


# --- what a step does to the deadline ---------------------------------------------------------------


def test_entering_a_stage_starts_its_clock() -> None:
    """Check-out enters ``accept``; verifying a report enters ``finish`` (5 days if complex)."""
    checked_out = deadline_after(Kind.PATROL, Status.CHECKED_IN, Status.SUBMITTED, moment=FRIDAY_3PM, policy=POLICY)
    assert checked_out.due_at == MONDAY_3PM and checked_out.restarts
    monday_10 = cst(2026, 11, 23, 10)
    verified = deadline_after(Kind.REPORT, Status.SUBMITTED, Status.VERIFIED, moment=monday_10, policy=POLICY)
    assert verified.due_at == cst(2026, 11, 26, 10)
    hard = deadline_after(Kind.REPORT, Status.SUBMITTED, Status.VERIFIED, moment=monday_10, complex=True, policy=POLICY)
    assert hard.due_at == cst(2026, 11, 30, 10)


def test_staying_in_a_stage_keeps_the_running_deadline() -> None:
    """Assigning a verified report (finish → finish) or adding route points changes no deadline."""
    for kind, before, after in (
        (Kind.REPORT, Status.VERIFIED, Status.ASSIGNED),
        (Kind.REPORT, Status.ASSIGNED, Status.ASSIGNED),
        (Kind.PATROL, Status.CHECKED_IN, Status.CHECKED_IN),
    ):
        assert deadline_after(kind, before, after, moment=FRIDAY_3PM, policy=POLICY) == KEEP_DEADLINE


def test_leaving_every_stage_clears_the_deadline() -> None:
    """Verifying a service log or patrol, rejecting, handling: no deadline runs any more."""
    for kind, before, after in (
        (Kind.SERVICE, Status.SUBMITTED, Status.VERIFIED),
        (Kind.PATROL, Status.SUBMITTED, Status.VERIFIED),
        (Kind.REPORT, Status.SUBMITTED, Status.REJECTED),
        (Kind.REPORT, Status.ASSIGNED, Status.HANDLED),
        (Kind.REPORT, Status.HANDLED, Status.REJECTED),
    ):
        change = deadline_after(kind, before, after, moment=FRIDAY_3PM, policy=POLICY)
        assert change == NO_DEADLINE and not change.restarts


# --- escalation ----------------------------------------------------------------------------------------


def test_overdue_only_in_an_open_stage_at_or_after_the_deadline() -> None:
    """Due at Monday 15:00: not overdue a second before, overdue at it; never without a stage or a deadline."""
    assert overdue_stage(Kind.SERVICE, Status.SUBMITTED, MONDAY_3PM, MONDAY_3PM - timedelta(seconds=1)) is None
    assert overdue_stage(Kind.SERVICE, Status.SUBMITTED, MONDAY_3PM, MONDAY_3PM) is Stage.ACCEPT
    assert overdue_stage(Kind.REPORT, Status.ASSIGNED, MONDAY_3PM, MONDAY_3PM) is Stage.FINISH
    assert overdue_stage(Kind.REPORT, Status.SUBMITTED, None, MONDAY_3PM) is None
    for kind, status in (
        (Kind.REPORT, Status.HANDLED),
        (Kind.SERVICE, Status.VERIFIED),
        (Kind.PATROL, Status.CHECKED_IN),
    ):
        assert overdue_stage(kind, status, FRIDAY_3PM, MONDAY_3PM + timedelta(days=30)) is None


def test_escalation_moves_one_level_up_with_a_fresh_deadline_from_now() -> None:
    """Missed Monday 15:00, escalated at 15:05: the parent answers, due Tuesday 15:05."""
    step = escalation_step(
        Stage.ACCEPT,
        responsible_organisation_id=6,
        parent_id=5,
        missed_due_at=MONDAY_3PM,
        moment=MONDAY_3PM + timedelta(minutes=5),
        complex=False,
        policy=POLICY,
    )
    assert (step.from_organisation_id, step.to_organisation_id) == (6, 5)
    assert step.missed_due_at == MONDAY_3PM and step.new_due_at == cst(2026, 11, 24, 15, 5)
    assert step.stage is Stage.ACCEPT


def test_escalation_at_the_root_stays_there_and_complex_keeps_five_days() -> None:
    """No parent: from and to are the root; a complex report's finish stage restarts at 5 working days."""
    monday_10 = cst(2026, 11, 30, 10)
    step = escalation_step(
        Stage.FINISH,
        responsible_organisation_id=1,
        parent_id=None,
        missed_due_at=monday_10,
        moment=monday_10,
        complex=True,
        policy=POLICY,
    )
    assert step.from_organisation_id == step.to_organisation_id == 1
    assert step.new_due_at == cst(2026, 12, 7, 10)


@settings(max_examples=200, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(2026, 1, 1),  # noqa: DTZ001 (hypothesis adds the zone)
        max_value=datetime(2027, 12, 31),  # noqa: DTZ001
        timezones=st.just(CHINA_ZONE),
    ),
    stage=st.sampled_from(list(Stage)),
    complex_=st.booleans(),
)
def test_an_escalated_item_is_not_due_again_at_the_same_moment(moment: datetime, stage: Stage, complex_: bool) -> None:
    """Every stage lasts ≥ 1 working day, so a second run at the same ``now`` finds nothing to do."""
    step = escalation_step(
        stage,
        responsible_organisation_id=2,
        parent_id=1,
        missed_due_at=moment,
        moment=moment,
        complex=complex_,
        policy=POLICY,
    )
    assert step.new_due_at > moment
    status = Status.SUBMITTED if stage is Stage.ACCEPT else Status.VERIFIED
    assert overdue_stage(Kind.REPORT, status, step.new_due_at, moment) is None
