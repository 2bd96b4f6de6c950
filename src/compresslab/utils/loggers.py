"""Logger adjustments."""

from __future__ import annotations

import csv
from typing import Any

from lightning.fabric.loggers.logger import rank_zero_experiment
from lightning.pytorch.loggers import CSVLogger as _LightningCSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter


class _ContinuingWriter(ExperimentWriter):
    """Reads the header of an existing ``metrics.csv`` before its first write, so old columns are kept."""

    _header_loaded = False

    def _record_new_keys(self) -> set[str]:
        if not self._header_loaded:
            self._header_loaded = True
            if self._fs.isfile(self.metrics_file_path):
                with self._fs.open(self.metrics_file_path, "r", newline="") as f:
                    header = next(csv.reader(f), [])
                self.metrics_keys = sorted(set(self.metrics_keys) | set(header))
        return super()._record_new_keys()


class CSVLogger(_LightningCSVLogger):
    """Lightning's CSVLogger that continues an existing ``metrics.csv``.

    Lightning's writer keeps the file's columns in memory only; a writer unpickled in a new process (each stage
    of a ``ddp_spawn`` run) or created for a run resumed into its own directory rewrote the file with only its
    own keys and failed on the old rows. This writer reads the existing header first.
    """

    @property
    @rank_zero_experiment
    def experiment(self) -> Any:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _ContinuingWriter(log_dir=self.log_dir)
        return self._experiment
