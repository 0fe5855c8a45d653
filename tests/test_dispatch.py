from datetime import UTC, datetime, timedelta

from posts.dispatch import countdown_for

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def test_it_sends_at_once_what_is_due():
    assert countdown_for(None, NOW) is None
    assert countdown_for(NOW - timedelta(seconds=3), NOW) is None
    assert countdown_for(NOW, NOW) is None


def test_it_never_sends_a_countdown_under_one_second():
    assert countdown_for(NOW + timedelta(milliseconds=200), NOW) == 1


def test_it_rounds_up_so_a_message_is_never_early():
    assert countdown_for(NOW + timedelta(seconds=3, milliseconds=1), NOW) == 4
    assert countdown_for(NOW + timedelta(seconds=3), NOW) == 3
