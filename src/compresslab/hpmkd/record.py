"""What an HPM-KD run records: "did it act" — per component, what it chose (ACM's configuration and its source,
the chain's length and which model taught, AWMT's mean attention per teacher and its entropy, MTS's temperature
trajectory) as metrics and as ``hpmkd_choices.json`` in the run directory — and the run's row in the SOM history."""

from __future__ import annotations

import math
import time

import torch

from compresslab.utils.logging import get_logger

log = get_logger(__name__)


class RunRecorder:
    """Recording hooks of HPMKDModule (a mixin; ``self`` is the module)."""

    def _did_it_act(self) -> dict[str, float]:
        """Whole-run summaries of what AWMT and MTS did (metrics; the strings go to :attr:`choices`)."""
        out: dict[str, float] = {}
        if self._attn_total is not None and self._attn_total_n:
            weights = (self._attn_total / self._attn_total_n).tolist()
            for m, w in enumerate(weights):
                out[f"awmt/w{m}"] = w
            k = int(self._mask.sum()) if self._mask is not None else len(weights)
            ent = self._attn_ent_total / self._attn_total_n
            out["awmt/entropy"] = ent
            out["awmt/entropy_norm"] = ent / math.log(k) if k > 1 else 0.0  # 1 = uniform, 0 = one teacher
            self.choices["awmt"] = {
                "slots": self.choices.get("teacher_set", []),
                "mean_weight": [round(w, 4) for w in weights],
                "entropy": round(ent, 4),
                "entropy_norm": round(out["awmt/entropy_norm"], 4),
            }
        if self._mts is not None and self._t_traj:
            first, last, lo, hi, total, n = self._t_traj
            out.update({"mts/T_first": first, "mts/T_last": last, "mts/T_min": lo, "mts/T_max": hi})
            out["mts/T_mean"] = total / max(n, 1)
            strategy = self._mts.strategy
            out["mts/strategy"] = float(
                {"probe": 0, "cosine": 1, "loss": 2, "convergence": 3}.get(strategy, -1)
            )
            self.choices["mts"] = {
                "strategy": strategy,
                "T_first": round(first, 4),
                "T_last": round(last, 4),
                "T_min": round(lo, 4),
                "T_max": round(hi, 4),
                "T_mean": round(total / max(n, 1), 4),
            }
        return out

    def on_fit_end(self) -> None:
        """Write ``hpmkd_choices.json`` (what each component chose) and add this run's (meta-features,
        configuration, result) to the SOM history (rank 0, real runs only)."""
        self._write_choices()
        if (
            self._som is None
            or self._meta is None
            or not self.objective.recorded
            or self.trainer.fast_dev_run
            or not self.trainer.is_global_zero
            or self._limits()[0] is not None
        ):
            return
        best = self.val_acc_best.compute()
        t_val = self._info.get("teacher/val_acc", math.nan)
        if not (torch.isfinite(best) and math.isfinite(t_val) and t_val > 0):
            return
        config = {
            "temperature": self._t0,
            "alpha": self._alpha,
            "lr": float(self._lr or 0.0),
            "epochs": int(self.trainer.max_epochs or 1),
            "method": self.method,
            "components": self.comp,
        }
        result = {
            "retention": float(best) / t_val,
            "val_acc": float(best),
            "teacher_val_acc": t_val,
            "fit_s": time.perf_counter() - self._t_start,
        }
        self._som.add_run(self._meta, config, result, run_id=self._run_id)

    def _write_choices(self) -> None:
        if not self.trainer.is_global_zero:
            return
        self.choices["method"] = self.method
        self.choices["components"] = dict(self.comp)
        self.choices["kd"] = {"T0": self._t0, "alpha": self._alpha, "lr": self._lr}
        log.info(f"HPM-KD choices: {self.choices}")
        root = getattr(self.trainer, "default_root_dir", None)
        if root:
            from pathlib import Path

            from compresslab.utils.io import atomic_write_json

            atomic_write_json(Path(root) / "hpmkd_choices.json", self.choices)
