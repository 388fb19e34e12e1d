"""backoff_delay (replay/_core/_common.py): exponential, capped, never overflowing."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from replay.common import RetryPolicy


def test_grows_by_the_coefficient_up_to_the_maximum() -> None:
    policy = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                         maximum_interval=timedelta(seconds=10))
    assert [policy.delay_for(n).total_seconds() for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]


@given(attempt=st.integers(min_value=1, max_value=10**6),
       coefficient=st.floats(min_value=1.0, max_value=100.0))
def test_any_attempt_gives_a_delay_within_the_cap(attempt: int, coefficient: float) -> None:
    policy = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=coefficient)
    delay = policy.delay_for(attempt)
    assert timedelta(seconds=1) <= delay <= timedelta(seconds=100)
