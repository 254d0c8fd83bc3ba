"""Where a training run happens: the train function (asynchronous Lambda invoke) or a local thread."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import boto3

from reco.training.requests import TrainingJob


class LambdaTrainingLauncher:
    """Invokes the train function with ``InvocationType=Event``: the API answers 202 at once."""

    def __init__(self, client: Any, function_name: str) -> None:
        self._client = client
        self._function = function_name

    def launch(self, job: TrainingJob) -> None:
        self._client.invoke(
            FunctionName=self._function, InvocationType="Event", Payload=json.dumps(asdict(job)).encode()
        )

    @classmethod
    def from_function_name(cls, function_name: str) -> LambdaTrainingLauncher:
        return cls(boto3.client("lambda"), function_name)


class ThreadTrainingLauncher:
    """Trains in a background thread of this process (the local runner has no Lambda service)."""

    def __init__(self, train: Callable[[TrainingJob], object]) -> None:
        self._train = train
        self._threads: list[threading.Thread] = []

    def launch(self, job: TrainingJob) -> None:
        thread = threading.Thread(target=self._train, args=(job,), name=f"train-{job.job_id}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def wait(self, timeout: float | None = None) -> None:
        """Block until every launched run has finished (tests and the CLI)."""
        for thread in self._threads:
            thread.join(timeout)
        self._threads = [t for t in self._threads if t.is_alive()]
