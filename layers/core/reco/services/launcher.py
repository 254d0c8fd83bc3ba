"""How the models function starts a training run: the train function in AWS, a thread locally."""

from __future__ import annotations

from reco.settings import get_settings
from reco.stores.aws import cached_store
from reco.stores.launchers import LambdaTrainingLauncher, ThreadTrainingLauncher
from reco.training.requests import TrainingJob, TrainingLauncher


@cached_store
def training_launcher() -> TrainingLauncher:
    settings = get_settings()
    if settings.training_launcher == "lambda":
        return LambdaTrainingLauncher.from_function_name(settings.train_function)
    return ThreadTrainingLauncher(train_here)


def train_here(job: TrainingJob) -> None:
    """Run the job in this process (the local runner has no train function)."""
    # Imported here: in Lambda the models function only starts runs and never loads the fitting code.
    from reco.services.training import training_services
    from reco.training.service import run_training

    run_training(job, training_services())
