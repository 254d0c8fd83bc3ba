"""Imports: timestamps placed inside the event retention up front, rows in time order, batches in flight in order."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError

from reco.cli.commands import in_order
from reco.cli.errors import CommandError, describe_error
from reco.datasets.movielens import Ratings
from reco.imports import RETENTION_MARGIN, check_within_retention, event_rows, fit_to_retention

NOW = 1_800_000_000.0
DAY = 86_400.0


def test_data_that_fits_is_shifted_so_the_newest_is_now_and_gaps_stay_exact() -> None:
    times = np.array([1000.0, 1000.0 + 5 * DAY, 1000.0 + 200 * DAY])
    fit = fit_to_retention(times, 730, now=NOW)
    assert fit.timestamps[-1] == pytest.approx(NOW - 60)
    assert np.diff(fit.timestamps) == pytest.approx(np.diff(times))
    assert fit.summary.startswith("timestamps shifted by") and "200 days of data" in fit.summary


def test_data_longer_than_the_retention_is_compressed_inside_it_in_order() -> None:
    times = np.sort(np.random.default_rng(3).uniform(0, 1039 * DAY, 10_000))
    times[[0, -1]] = 0, 1039 * DAY
    fit = fit_to_retention(times, 730, now=NOW)
    oldest_allowed = NOW - 730 * DAY
    # a tenth of the retention is left before the oldest expires (less the minute before now the newest lands on)
    assert fit.timestamps.min() == pytest.approx(oldest_allowed + 730 * RETENTION_MARGIN * DAY - 60)
    assert fit.timestamps.max() == pytest.approx(NOW - 60)
    assert np.all(np.diff(fit.timestamps) >= 0)  # order kept
    assert "compressed x0.63" in fit.summary and "1,039 days" in fit.summary and "expire in 73 days" in fit.summary


def test_kept_timestamps_outside_the_retention_are_refused_in_one_message() -> None:
    times = np.array([NOW - 800 * DAY, NOW - 900 * DAY, NOW - DAY])
    with pytest.raises(
        ValueError, match=r"^2 of 3 rows are older than the 730-day event retention .* nothing was imported$"
    ):
        check_within_retention(times, 730, now=NOW)
    with pytest.raises(ValueError, match=r"^1 of 1 rows lie more than a day in the future"):
        check_within_retention(np.array([NOW + 3 * DAY]), 730, now=NOW)
    check_within_retention(np.array([NOW - 700 * DAY, NOW]), 730, now=NOW)  # inside: no error


def test_event_rows_come_oldest_first_with_ids_from_the_original_times() -> None:
    ratings = Ratings(
        ["u1", "u2", "u3"], ["a", "b", "c"], np.array([4, 5, 3], np.float32), np.array([30.0, 10.0, 20.0])
    )
    rows = list(event_rows(ratings, ratings.timestamps + 1000, prefix="ml"))
    assert [row["event_id"] for row in rows] == ["ml-u2-b-10", "ml-u3-c-20", "ml-u1-a-30"]
    assert [row["value"] for row in rows] == [5.0, 3.0, 4.0]


def test_batches_run_side_by_side_and_come_back_in_order() -> None:
    running = 0
    most = 0
    lock = threading.Lock()

    def work(n: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.01 * (n % 3))
        with lock:
            running -= 1
        return n * n

    assert list(in_order(work, range(20), workers=3)) == [(n, n * n) for n in range(20)]
    assert 1 < most <= 3


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (NoRegionError(), "no AWS region is set"),
        (NoCredentialsError(), "no AWS credentials found"),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), "cannot reach"),
        (
            ClientError(
                {"Error": {"Code": "ResourceNotFoundException", "Message": "Requested resource not found"}}, "Query"
            ),
            "set CONFIG_TABLE",
        ),
        (CommandError("start `make run`"), "start `make run`"),
    ],
)
def test_errors_the_user_can_act_on_are_one_line(error: Exception, says: str) -> None:
    message = describe_error(error)
    assert message is not None and says in message and "\n" not in message


def test_a_bug_is_not_dressed_up_as_a_user_error() -> None:
    assert describe_error(ZeroDivisionError("bug")) is None
