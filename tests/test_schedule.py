from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from hayon.errors import HayonError
from posts.schedule import DST_GAP, DST_OVERLAP, parse_schedule

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def test_it_reads_an_instant_with_an_offset():
    schedule = parse_schedule("2026-03-02T10:00:00+01:00", None)
    assert schedule.at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert schedule.note == ""


def test_it_reads_a_local_time_in_the_given_timezone():
    schedule = parse_schedule("2026-03-02T10:00:00", "America/New_York")
    assert schedule.at == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    assert schedule.timezone == "America/New_York"


def test_it_moves_a_time_in_the_spring_gap_forward_by_the_gap():
    schedule = parse_schedule("2026-03-29T02:30:00", "Europe/Berlin")
    # 02:30 does not exist in Berlin that night; 03:30 CEST is 01:30 UTC.
    assert schedule.at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert schedule.note == DST_GAP


def test_it_takes_the_first_occurrence_of_a_time_in_the_autumn_overlap():
    schedule = parse_schedule("2026-10-25T02:30:00", "Europe/Berlin")
    # 02:30 happens twice; the first is still summer time (+02:00).
    assert schedule.at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert schedule.note == DST_OVERLAP


@pytest.mark.parametrize(
    ("value", "tz", "code"),
    [
        ("2026-03-02T10:00:00", None, "naive_datetime"),
        ("2026-03-02T10:00:00", "Mars/Olympus", "unknown_timezone"),
        ("next tuesday", None, "invalid_datetime"),
        ("2026-02-28T10:00:00Z", None, "in_past"),
        ("2027-06-01T10:00:00Z", None, "too_far"),
    ],
)
def test_it_refuses_times_it_cannot_honour(value, tz, code):
    with pytest.raises(HayonError) as refused:
        parse_schedule(value, tz)
    assert refused.value.code == code
    assert refused.value.field in ("scheduled_at", "timezone")


def test_it_accepts_a_time_a_few_seconds_in_the_past():
    schedule = parse_schedule((NOW - timedelta(seconds=10)).isoformat(), None)
    assert schedule.at == NOW - timedelta(seconds=10)


def test_it_rounds_a_fraction_of_a_second_up_to_the_next_whole_second():
    schedule = parse_schedule("2026-03-02T09:00:00.500+00:00", None)
    assert schedule.at == datetime(2026, 3, 2, 9, 0, 1, tzinfo=UTC)


def test_it_refuses_a_moved_time_without_offset_even_when_the_post_has_a_zone():
    with pytest.raises(HayonError) as refused:
        parse_schedule("2026-03-02T10:00:00", None, default_tz="Asia/Kolkata")
    assert refused.value.code == "naive_datetime"
