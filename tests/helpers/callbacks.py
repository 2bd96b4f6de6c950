"""Test-only callbacks, loaded by the CLI through ``+callbacks.<name>._target_=tests.helpers.callbacks...``."""

from __future__ import annotations

import os
import signal

from lightning.pytorch import Callback


class KillAtStep(Callback):
    """SIGKILL the training process right after optimizer step ``step`` (a real crash: no cleanup runs)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:  # noqa: ANN001
        if trainer.global_step == self.step:
            os.kill(os.getpid(), signal.SIGKILL)


class FailAtStep(Callback):
    """Raise an error at optimizer step ``step`` (a job that fails halfway)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:  # noqa: ANN001
        if trainer.global_step == self.step:
            raise RuntimeError(f"injected failure at step {self.step}")
