"""Logger adjustments."""

from __future__ import annotations

import csv
from pathlib import Path
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


def wandb_review_fields(cfg: Any) -> dict[str, Any]:
    """W&B grouping for review: group = experiment (``task_name``), job_type = the sweep (``sweep-<dir>`` in a
    multirun, ``run`` otherwise), tags = ``cfg.tags`` + ``paper:``/``table:``/``row:``/``scale:``/``sweep:``.
    """
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    sweep = None
    if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
        sweep = Path(HydraConfig.get().sweep.dir).name
    paper = cfg.get("paper") or {}
    tags = [str(t) for t in (cfg.get("tags") or [])]
    for key in ("name", "table", "row", "scale"):
        if paper.get(key):
            tags.append(f"{'paper' if key == 'name' else key}:{paper[key]}"[:64])  # W&B's tag limit
    if sweep:
        tags.append(f"sweep:{sweep}")
    return {"group": cfg.get("task_name"), "job_type": f"sweep-{sweep}" if sweep else "run", "tags": tags}
