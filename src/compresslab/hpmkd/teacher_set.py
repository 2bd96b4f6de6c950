"""HPM-KD's setup work, run once in ``setup("fit")`` before the optimiser exists: the teachers' outputs (PPP,
through the SOM cache), ACM's configuration, the Progressive Distillation Chain, and the teacher set the student
learns from (the objective's, with its cached training logits) and the per-batch lookup of its outputs. The inner
runs (chain steps, probes) are :func:`~compresslab.hpmkd.engine.fit_distill` loops.

:class:`TeacherSetSetup` is mixed into :class:`~compresslab.hpmkd.module.HPMKDModule`; everything it decides ends
in ``_set_models`` / ``_set_logits`` / ``_mask`` (the teacher set), ``_t0`` / ``_alpha`` / ``_lr`` (the KD
configuration), ``_info`` (metrics) and ``choices`` (what each component chose)."""

from __future__ import annotations

import copy
import dataclasses
import math
import time
import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from compresslab.hpmkd.chain import ProgressiveDistillationChain, cached_stage, lineage_tag
from compresslab.hpmkd.config_manager import AdaptiveConfigManager, KDConfig, MetaFeatures
from compresslab.hpmkd.engine import (
    Recipe,
    accuracy,
    batched_outputs,
    capture_penultimate,
    dataset_identity,
    dataset_labels,
    dataset_transform,
    evaluate,
    fit_distill,
    is_deterministic,
)
from compresslab.hpmkd.memory import SharedOptimizationMemory, teacher_key
from compresslab.measure.report import num_params as count_params
from compresslab.utils.errors import ConfigError
from compresslab.utils.logging import get_logger

log = get_logger(__name__)


class TeacherSetSetup:
    """Setup of HPMKDModule: teacher outputs, ACM, chain and the teacher set (a mixin; ``self`` is the module)."""

    # -------------------------------------------------------------------------------------- inner runs
    def _limits(self) -> tuple[int | None, int | None]:
        """Batch caps (train, eval) of the inner runs from the Trainer's fast_dev_run / limit_*_batches."""
        t = self.trainer
        if t.fast_dev_run:
            n = 1 if t.fast_dev_run is True else int(t.fast_dev_run)
            return n, n
        out = []
        for lim in (t.limit_train_batches, t.limit_val_batches):
            out.append(int(lim) if isinstance(lim, int) and not isinstance(lim, bool) else None)
        return out[0], out[1]

    def _epochs(self, value: int | None) -> int:
        if self.trainer.fast_dev_run:
            return 1
        return int(value) if value else int(self.trainer.max_epochs or 1)

    def _recipe(self, epochs: int | None, teacher_loss: bool = True) -> Recipe:
        mts = None
        if self.comp["mts"] and teacher_loss:  # MTS on: HPM-KD (the baselines force it off)
            m = self.hparams.mts
            mts = {
                "spread": m["spread"],
                "strategy": m["strategy"],
                "probe_fraction": m["probe_fraction"],
                "blend_fraction": m["blend_fraction"],
            }
        bs = self.hparams.chain["batch_size"] or getattr(self.trainer.datamodule, "batch_size", 64)
        return Recipe(
            epochs=self._epochs(epochs),
            batch_size=int(bs),
            lr=float(self._lr or 1e-3),
            temperature=self._t0,
            alpha=self._alpha if teacher_loss else 0.0,
            t_squared=bool(self.hparams.t_squared),
            mts=mts,
            max_batches=self._limits()[0],
            seed=self._seed,
        )

    def _cached(self, key: str, fn: Callable[[], Any], label: str, partial: bool = False) -> Any:
        """SOM ``get_or_compute`` with one decision for all ranks (rank 0 looks up and broadcasts).
        ``partial`` outputs (smoke runs: only the first batches) are never cached."""
        if self._som is None or partial:
            return fn()
        if self.trainer.world_size == 1:
            return self._som.get_or_compute(key, fn, label=label)
        strategy = self.trainer.strategy
        value = self._som.get_teacher_outputs(key) if self.trainer.is_global_zero else None
        if strategy.broadcast(value is not None, src=0):
            return strategy.broadcast(value, src=0)
        value = fn()  # collective: every rank computes its shard
        if self.trainer.is_global_zero:
            self._som.put_teacher_outputs(key, value, label=label)
        return value

    def _outputs(self, model: nn.Module, split: str, features: bool = False) -> Any:
        """Logits (and penultimate features) of a frozen model on a split, once, through the SOM cache."""
        ds = self._train_ds if split == "train" else self._val_ds
        max_b = self._limits()[0 if split == "train" else 1]
        ident = dataset_identity(ds, split, self._source)
        key = teacher_key(model, ident, dataset_transform(ds), extra={"features": features})
        label = f"{type(model).__name__} on {ident['source'].get('name', ident['source'].get('class', ''))}/{split}"
        t0 = time.perf_counter()
        out = self._cached(
            key,
            lambda: batched_outputs(
                model, ds, self._device, self.hparams.teacher_batch_size, features=features, max_batches=max_b
            ),
            label,
            partial=max_b is not None,
        )
        self._info["time/teacher_s"] = self._info.get("time/teacher_s", 0.0) + time.perf_counter() - t0
        return out

    def _train_outputs_or_none(self, model: nn.Module | None) -> torch.Tensor | None:
        """Cached training-split logits of ``model`` when they can be used, else None (teacher runs per batch)."""
        if model is None or not self._cacheable:
            return None
        return self._outputs(model, "train")

    def _probe(self, teacher: nn.Module, recipe: Recipe, shared: bool = False) -> float:
        """Validation accuracy of a fresh copy of the initial student distilled from ``teacher`` by ``recipe``.

        ``shared`` (the chain's ``shared_seed``): the probe student is re-initialised from ``recipe.seed``, so the
        score does not depend on the run's seed and goes through the SOM cache like the chain's models."""
        if not shared:
            return self._probe_now(teacher, recipe, copy.deepcopy(self._initial_student))
        student = copy.deepcopy(self._initial_student)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(recipe.seed)
            for module in student.modules():
                if hasattr(module, "reset_parameters"):
                    module.reset_parameters()
        key = teacher_key(teacher, self._data_id, extra={"probe": recipe.key(), "student": repr(student)})
        label = f"probe of {type(teacher).__name__} ({count_params(teacher)} params)"
        score = self._cached(
            key,
            lambda: torch.tensor([self._probe_now(teacher, recipe, student)]),
            label,
            partial=self._limits()[0] is not None,
        )
        return float(score[0])

    def _distil(self, model: nn.Module, teacher: nn.Module, recipe: Recipe) -> nn.Module:
        """``model`` trained by :func:`fit_distill` from ``teacher`` on the training split (the teacher's cached
        logits when there are any) with ``recipe`` and the run's optimiser."""
        return fit_distill(
            model,
            self._train_ds,
            recipe,
            self.optimizer_factory,
            teacher=teacher,
            teacher_logits=self._train_outputs_or_none(teacher),
            device=self._device,
        )

    def _probe_now(self, teacher: nn.Module, recipe: Recipe, student: nn.Module) -> float:
        self._distil(student, teacher, recipe)
        return evaluate(
            student, self._val_ds, self._device, self.hparams.teacher_batch_size, self._limits()[1]
        )

    def _stage_model(self, stage: Any, parent: nn.Module, recipe: Recipe) -> nn.Module:
        def train(model: nn.Module, parent: nn.Module) -> nn.Module:
            return self._distil(model, parent, recipe)

        som = self._som if self._limits()[0] is None else None
        args = (self.family, stage, parent, train, som, self._data_id, recipe.key(), recipe.seed)
        if self.trainer.world_size > 1:  # one decision for all ranks: rank 0 looks up, broadcasts, stores
            state = None
            if som is not None and self.trainer.is_global_zero:
                state = som.get_model(
                    stage.arch,
                    stage.params,
                    lineage_tag(parent, self._data_id, {**recipe.key(), "seed": recipe.seed}),
                )
            state = self.trainer.strategy.broadcast(state, src=0)
            if not self.trainer.is_global_zero:
                args = (*args[:4], None, *args[5:])
            model, hit = cached_stage(*args, preloaded=state, lookup=False)  # type: ignore[arg-type]
        else:
            model, hit = cached_stage(*args)  # type: ignore[arg-type]
        self._info["som/model_hits"] = self._info.get("som/model_hits", 0.0) + float(hit)
        return model.to(self._device).eval().requires_grad_(False)

    # ------------------------------------------------------------------------------------------- setup
    def setup(self, stage: str) -> None:
        super().setup(stage)
        if stage != "fit" or self._prepared:
            return
        self._prepared = True
        self._t_start = time.perf_counter()
        trainer, dm = self.trainer, self.trainer.datamodule
        splits = getattr(dm, "splits", None)
        if splits is None or not hasattr(splits, "train"):
            raise ConfigError(
                "data._target_",
                type(dm).__name__,
                "compresslab.data.DataModule (HPMKDModule reads its splits)",
                "use one of the conf/data configs.",
            )
        self._seed = int(torch.initial_seed()) % (2**31)
        self._device = trainer.strategy.root_device
        self._source = getattr(dm, "dataset", None)
        self._train_ds = splits.train
        self._val_ds = next(iter(splits.val.values()), None) if splits.val else None
        if self._val_ds is None and (self.comp["acm"] or self.comp["pdc"]):
            raise ConfigError(
                "data.dataset.val_fraction", 0, "a validation split (ACM and PDC probe on it)", "> 0."
            )
        self._som = SharedOptimizationMemory(self.hparams.som_dir) if self.comp["som"] else None
        self._data_id = dataset_identity(self._train_ds, "train", self._source)
        # the probes' starting point; not a submodule (no checkpoint, no optimiser, no DDP unused parameters)
        object.__setattr__(self, "_initial_student", copy.deepcopy(self.net).cpu())
        limited = self._limits()[0] is not None
        self._cacheable = (
            self.comp["ppp"]
            and self.hparams.teacher_cache == "auto"
            and not limited
            and is_deterministic(self._train_ds)
        )
        if self._cacheable:
            dm.request_indices()  # training batches carry sample indices for the cached logits
        elif self.comp["ppp"] and not limited:
            log.info("training split is randomly augmented: teachers run on every batch (no logit cache)")
        for t in self.teachers:
            t.to(self._device)

        teacher0 = self.teachers[0] if self.teachers else None
        t_val = math.nan
        if teacher0 is not None and self._val_ds is not None:
            labels = self._val_labels()
            t_val = accuracy(self._outputs(teacher0, "val")[: len(labels)], labels)
        self._info["teacher/val_acc"] = t_val
        if teacher0 is not None:
            self._meta = MetaFeatures.from_data(
                dataset_labels(self._train_ds),
                self.hparams.input_shape or list(getattr(dm, "input_shape", [1])),
                teacher0,
                self.net,
                min(max(t_val if math.isfinite(t_val) else 0.0, 0.0), 1.0),
                n_classes=self.hparams.num_classes,
            )
        if self.comp["acm"]:
            self._run_acm(teacher0, t_val)  # type: ignore[arg-type]

        pdc = self.objective.chain(self.comp, self.hparams.chain)  # HPM-KD's PDC, TAKD's assistant, or none
        chain_model = self._run_chain(teacher0, pdc) if pdc is not None else None  # type: ignore[arg-type]
        self._build_teacher_set(teacher0, chain_model)
        self._info["time/setup_s"] = time.perf_counter() - self._t_start

    def _val_labels(self) -> torch.Tensor:
        labels = dataset_labels(self._val_ds)
        cap = self._limits()[1]
        if cap is not None:  # batched_outputs computed only the first batches: compare those rows
            labels = labels[: cap * self.hparams.teacher_batch_size]
        return labels

    def _run_acm(self, teacher0: nn.Module, t_val: float) -> None:
        t0 = time.perf_counter()
        a = self.hparams.acm
        default = KDConfig.clipped(
            self._t0, self._alpha, float(self._lr or 1e-3), self.trainer.max_epochs or 1
        )
        if (default.temperature, default.alpha) != (self._t0, self._alpha):
            warnings.warn(f"ACM default clipped into its ranges: {default}", stacklevel=2)
        manager = AdaptiveConfigManager(
            k=a["k"], regressor_threshold=a["regressor_threshold"], score_key=a["score_key"], default=default
        )
        suggestion = manager.explain(self._meta, self._som) if self.trainer.is_global_zero else None  # type: ignore[arg-type]
        if self.trainer.world_size > 1:  # one history read: every rank must run the same quick validations
            suggestion = self.trainer.strategy.broadcast(suggestion, src=0)
        assert suggestion is not None
        config = suggestion.config
        log.info(f"ACM {suggestion.method} over {suggestion.n_history} runs: {config}")
        if a["refine"] and self._val_ds is not None:
            ref = max(t_val, 1e-6) if math.isfinite(t_val) else 1.0

            def score(c: KDConfig) -> float:
                self._t0, self._alpha, self._lr = c.temperature, c.alpha, c.lr
                return self._probe(teacher0, self._recipe(c.epochs)) / ref

            result = manager.validate_and_refine(
                config, score, a["threshold"], epochs=self._epochs(a["refine_epochs"])
            )
            config = result.best
            self._info["acm/refine_runs"] = float(len(result.scores))
            log.info(
                f"ACM refined over {len(result.scores)} quick runs: {config} (score {result.best_score:.4f})"
            )
        self._t0, self._alpha, self._lr = config.temperature, config.alpha, config.lr
        self._info["acm/method"] = {"default": 0.0, "knn": 1.0, "regressor": 2.0}[suggestion.method]
        self._info["acm/history"] = float(suggestion.n_history)
        chosen = (config.temperature, config.alpha, config.lr)
        changed = any(
            abs(a - b) > 1e-9 for a, b in zip(chosen, (default.temperature, default.alpha, default.lr))
        )
        self._info["acm/changed"] = float(changed)
        self.choices["acm"] = {
            "source": suggestion.method,
            "history_rows": suggestion.n_history,
            "neighbours": [list(n) for n in suggestion.neighbours],
            "default": {"T0": default.temperature, "alpha": default.alpha, "lr": default.lr},
            "chosen": {"T0": config.temperature, "alpha": config.alpha, "lr": config.lr},
            "refined": bool(a["refine"] and self._val_ds is not None),
            "changed": changed,
        }
        self._info["time/acm_s"] = time.perf_counter() - t0

    def _run_chain(self, teacher0: nn.Module, pdc: ProgressiveDistillationChain) -> nn.Module | None:
        t0 = time.perf_counter()
        c = self.hparams.chain
        assert self.family is not None
        plan = pdc.plan(self.family, count_params(teacher0), count_params(self.net))
        # shared_seed: one chain per (teacher, data, recipe), trained once and reused by every seed; the probes
        # (PDC's stop test; TAKD's chain has none) use that seed too
        shared = c["shared_seed"] is not None
        stage_recipe, probe_recipe = self._recipe(c["epochs"]), self._recipe(c["probe_epochs"])
        if shared:
            stage_recipe = dataclasses.replace(stage_recipe, seed=int(c["shared_seed"]))
            probe_recipe = dataclasses.replace(probe_recipe, seed=int(c["shared_seed"]))
        outcome = pdc.run(
            plan,
            teacher0,
            lambda stage, parent: self._stage_model(stage, parent, stage_recipe),
            (lambda m: self._probe(m, probe_recipe, shared)) if pdc.epsilon is not None else None,
        )
        self.chain_outcome = outcome
        log.info(
            f"PDC: planned {[s.params for s in plan]} params, trained {outcome.steps_trained}, "
            f"probes {[round(s, 4) for s in outcome.scores]}, student's teacher = "
            f"{'teacher' if outcome.best == 0 else f'f_{outcome.best}'} ({outcome.reason})"
        )
        self._info["hpmkd/chain_steps"] = float(outcome.steps_trained)
        self._info["hpmkd/chain_best"] = float(outcome.best)
        taught = outcome.last_model(teacher0)
        self._info["pdc/taught_params"] = float(count_params(taught))
        self.choices[self.objective.chain_label] = {
            "planned_params": [s.params for s in plan],
            "steps_trained": outcome.steps_trained,
            "probe_acc": [round(x, 4) for x in outcome.scores],
            "gains": [round(x, 4) for x in outcome.gains],
            "taught_by": "teacher" if outcome.best == 0 else f"f_{outcome.best}",
            "taught_params": count_params(taught),
            "reason": outcome.reason,
        }
        self._info["time/chain_s"] = time.perf_counter() - t0
        return None if outcome.best == 0 else outcome.last_model(teacher0)

    def _build_teacher_set(self, teacher0: nn.Module | None, chain_model: nn.Module | None) -> None:
        """The teachers the student learns from (the objective's, in AWMT slot order) and their cached logits."""
        models, names = self.objective.teacher_set(self.teachers, chain_model)
        self._set_models = models
        self.choices["teacher_set"] = names
        self._mask = torch.tensor([m is not None for m in models], dtype=torch.bool) if models else None
        if not models or not self._cacheable:
            return
        logits = [self._outputs(m, "train") if m is not None else None for m in models]
        ref = next(t for t in logits if t is not None)
        self._set_logits = torch.stack(
            [t if t is not None else torch.zeros_like(ref) for t in logits]
        )  # [K, N, C]
        if self.objective.features:
            _, self._teacher_feats = self._outputs(teacher0, "train", features=True)  # type: ignore[arg-type,misc]

    # --------------------------------------------------------------------------------- per-batch outputs
    def _teacher_logits(self, x: torch.Tensor, idx: torch.Tensor | None) -> torch.Tensor:
        """``[K, B, C]`` logits of the teacher set for this batch (cached rows, else the teachers run now)."""
        if self._set_logits is not None and idx is not None:
            return self._set_logits[:, idx.to(self._set_logits.device)]
        outs = []
        with torch.no_grad():
            for m in self._set_models:
                outs.append(m(x).float() if m is not None else None)
        ref = next(o for o in outs if o is not None)
        return torch.stack([o if o is not None else torch.zeros_like(ref) for o in outs])

    def _teacher_feature_batch(self, x: torch.Tensor, idx: torch.Tensor | None) -> torch.Tensor:
        """``[B, D]`` penultimate features of the first teacher for this batch (cached rows, else computed now)."""
        if self._teacher_feats is not None and idx is not None:
            return self._teacher_feats[idx.to(self._teacher_feats.device)]
        teacher = self.teachers[0]
        with torch.no_grad(), capture_penultimate(teacher) as store:
            teacher(x)
        return store[-1]
