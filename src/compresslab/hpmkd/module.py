"""HPM-KD as a LightningModule: the six components, each switchable, and the KD baselines on the same code path.

``method=hpmkd`` runs the draft's training loop (§4.1; ``shared/papers/hpmkd.md`` §3) in ``setup("fit")``, before
the optimiser exists, and then trains the student with Lightning:

1. **PPP** — every teacher's logits on the training and validation splits are computed once, in large batches
   under ``inference_mode`` (DDP-sharded when a process group is up, :func:`~compresslab.hpmkd.engine.batched_outputs`)
   and looked up per batch by sample index; with PPP off (or a randomly augmented training split, whose inputs
   differ on every read) the teachers run on every batch instead. Parallel *jobs* (seeds, datasets, ablation
   arms, independent chains) are Hydra multiruns on the joblib launcher locally or the submitit launcher on SLURM
   (``conf/hydra/launcher``) — no scheduler of our own.
2. **SOM** — the logits go through the Shared Optimization Memory's teacher cache (keyed by teacher weights,
   split identity and transform), so the next job on the same data reads them from disk; chain models go through
   its model cache; the finished run's (meta-features, configuration, result) row is added to its history.
3. **ACM** — meta-features of (data, teacher, student) and the SOM history give (T₀, α, lr); a quick validation run
   (``acm.refine``) can refine them. Epochs stay ``trainer.max_epochs`` (the suggestion is logged, not applied:
   the Trainer is built before the module sees the data).
4. **PDC** — the chain of the student's family at geometric capacities, each step distilled from the previous,
   stopped on a relative probe gain < ε (:mod:`compresslab.hpmkd.chain`); its best model becomes a teacher.
5. **AWMT** — per-sample attention over the teacher set (the chain's model, if any, plus the M teachers), trained
   jointly with the student, with the entropy bonus β·R_attn (:mod:`compresslab.hpmkd.multi_teacher`).
6. **MTS** — T follows the meta-temperature schedule in [T₀/2, 3T₀/2] (the draft's [2, 6] for T₀ = 4), updated
   from the student's CE every step and logged as ``train/temperature``.

Turning a component off (``model.components.<name>=false``) removes exactly that: ACM off → the configured T, α,
lr; PDC off → no chain; AWMT off → a single teacher (the chain's model, else the first teacher); MTS off → fixed
T₀; PPP off → teachers run on every batch; SOM off → nothing persists (no cache, no history: ACM falls back to
its default).

The baselines (``method=direct|kd|fitnets|takd|dml``, :mod:`compresslab.hpmkd.baselines`) use the same teacher
outputs (PPP/SOM apply to every method, so wall times compare the losses, not the caching).

Logged besides ``ClassifierModule``'s metrics: ``train/temperature`` (every step), ``train/ce``, ``train/kd``,
``train/attn_entropy``, ``awmt/w<m>``, ``teacher/val_acc``, ``hpmkd/{T0,alpha,lr,chain_steps}``,
``time/{fit_s,setup_s,teacher_s,acm_s,chain_s}``, ``som/{hits,misses}`` — all end up in ``metrics.json``.
"""

from __future__ import annotations

import copy
import math
import time
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from omegaconf import DictConfig, ListConfig, OmegaConf
from torch import nn

from compresslab.hpmkd.baselines import (
    METHODS,
    TEACHER_METHODS,
    HintRegressor,
    check_kd_values,
    dml_losses,
    hint_loss,
)
from compresslab.hpmkd.chain import (
    ChainOutcome,
    NetFamily,
    ProgressiveDistillationChain,
    cached_stage,
    lineage_tag,
)
from compresslab.hpmkd.config_manager import AdaptiveConfigManager, KDConfig, MetaFeatures
from compresslab.hpmkd.engine import (
    IndexedDataset,
    Recipe,
    accuracy,
    batched_outputs,
    capture_penultimate,
    classifier_of,
    dataset_identity,
    dataset_labels,
    dataset_transform,
    evaluate,
    fit_distill,
    is_deterministic,
    kd_objective,
    optimizer_setting,
)
from compresslab.hpmkd.memory import SharedOptimizationMemory, teacher_key
from compresslab.hpmkd.multi_teacher import AttentionWeightedMultiTeacher, attention_regulariser, mix_teachers
from compresslab.hpmkd.nets import count_params
from compresslab.hpmkd.temperature import MetaTemperatureScheduler
from compresslab.models.classifier import ClassifierModule
from compresslab.utils.errors import ConfigError
from compresslab.utils.logging import get_logger

log = get_logger(__name__)

COMPONENTS = ("acm", "pdc", "awmt", "mts", "ppp", "som")
#: methods whose runs are added to the SOM history: distillation runs whose (T, α, lr) describe them. Direct
#: training is left out: its "α = 0" row would win every tie on small validation sets and turn ACM into a
#: switch that drops the teacher (ACM is there to configure distillation).
RECORDED_METHODS = ("kd", "hpmkd")

DEFAULTS: dict[str, dict[str, Any]] = {
    "components": dict.fromkeys(COMPONENTS, True),
    "acm": {
        "k": 5,
        "regressor_threshold": 50,
        "score_key": "retention",
        "refine": True,
        "refine_epochs": 10,
        "threshold": 0.98,
    },
    "mts": {
        "spread": 0.5,
        "strategy": "auto",
        "probe_fraction": 0.1,
        "blend_fraction": 0.05,
        "update_every": 1,
    },
    "awmt": {
        "hidden": 128,
        "dropout": 0.2,
        "beta": 0.01,
        "embed_dim": 16,
        "pool": 8,
        "use_teacher_outputs": False,
    },
    "chain": {
        "steps": 3,
        "epsilon": 0.01,
        "mode": "width",
        "depths": None,
        "epochs": None,
        "probe_epochs": None,
        "batch_size": None,
    },
    "fitnets": {"hint_epochs": 0, "hint_weight_kd": 0.0},
    "dml": {"temperature": 1.0},
}


def _plain(value: Any) -> Any:
    if isinstance(value, DictConfig | ListConfig):
        return OmegaConf.to_container(value, resolve=True)
    return value


def _section(name: str, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults of one settings section updated by ``given``; unknown keys are errors naming the closest key."""
    given = dict(_plain(given) or {})
    known = DEFAULTS[name]
    for key in given:
        if key not in known:
            import difflib

            close = difflib.get_close_matches(key, known, n=1)
            raise ConfigError(
                f"model.{name}.{key}",
                given[key],
                f"one of the keys {sorted(known)}",
                f"did you mean '{close[0]}'?" if close else "remove it.",
            )
    return {**known, **given}


def _teacher_list(teachers: Any) -> list[nn.Module]:
    if teachers is None:
        return []
    if isinstance(teachers, nn.Module):
        return [teachers]
    out = list(teachers)
    for i, t in enumerate(out):
        if not isinstance(t, nn.Module):
            raise ConfigError(
                f"model.teachers[{i}]",
                type(t).__name__,
                "a network (nn.Module), e.g. {_target_: compresslab.models.load_run_net, run_dir: ...}",
                "build each teacher from config.",
            )
    return out


class HPMKDModule(ClassifierModule):
    """Student training by HPM-KD or one of the KD baselines.

    Args:
        net: the student network.
        num_classes: classes of the student (and of every teacher).
        optimizer: partial optimiser constructor (the inner runs use it too, with their own ``lr``).
        scheduler: optional partial LR-scheduler constructor.
        teachers: teacher networks (frozen; held outside the module, never saved in checkpoints). The first is
            *the* teacher of the single-teacher methods and of the chain; all of them feed AWMT.
        method: ``hpmkd``, ``direct``, ``kd``, ``fitnets``, ``takd`` or ``dml``.
        temperature, alpha: T₀ and α of α·KL_T + (1 − α)·CE (ACM may replace them for ``hpmkd``).
        t_squared: multiply the KL term by T² (Hinton; the draft's formula omits it — set false for that).
        components: ``{acm, pdc, awmt, mts, ppp, som}`` booleans (``hpmkd``; ``ppp``/``som`` apply to every method).
        input_shape: shape of one input (``${data.input_shape}``): AWMT's feature size and the class-count check.
        family: the student's family for the chain and TAKD's assistant (:class:`NetFamily`).
        peer: DML's second student.
        acm, mts, awmt, chain, fitnets, dml: settings sections (defaults in :data:`DEFAULTS`).
        som_dir: the SOM store (None: ``$COMPRESSLAB_SOM_DIR`` or ``./.som``).
        teacher_cache: ``auto`` (precompute when PPP is on and the training split is deterministic) or ``never``.
        teacher_batch_size: batch size of the teacher inference.
        scheduler_interval, label_smoothing, compile: as :class:`ClassifierModule`.
    """

    hparams_ignore = (*ClassifierModule.hparams_ignore, "teachers", "family", "peer")

    def __init__(
        self,
        net: nn.Module,
        num_classes: int,
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None = None,
        teachers: Sequence[nn.Module] | None = None,
        method: str = "hpmkd",
        temperature: float = 4.0,
        alpha: float = 0.7,
        t_squared: bool = True,
        components: dict[str, bool] | None = None,
        input_shape: Sequence[int] | None = None,
        family: NetFamily | None = None,
        peer: nn.Module | None = None,
        acm: dict[str, Any] | None = None,
        mts: dict[str, Any] | None = None,
        awmt: dict[str, Any] | None = None,
        chain: dict[str, Any] | None = None,
        fitnets: dict[str, Any] | None = None,
        dml: dict[str, Any] | None = None,
        som_dir: str | None = None,
        teacher_cache: str = "auto",
        teacher_batch_size: int = 512,
        scheduler_interval: str = "epoch",
        label_smoothing: float = 0.0,
        compile: bool = False,
    ) -> None:
        if method not in METHODS:
            raise ConfigError(
                "model.method", method, f"one of {list(METHODS)}", "e.g. method=hpmkd or method=kd."
            )
        check_kd_values(temperature, alpha)
        teacher_modules = _teacher_list(teachers)
        if method in TEACHER_METHODS and not teacher_modules:
            raise ConfigError(
                "model.teachers",
                [],
                f"at least one teacher network for method={method}",
                "list teachers, e.g. model.teachers=[{_target_: compresslab.models.load_run_net, run_dir: <teacher "
                "run>}], or use method=direct / dml.",
            )
        if teacher_cache not in ("auto", "never"):
            raise ConfigError("model.teacher_cache", teacher_cache, "'auto' or 'never'", "use 'auto'.")
        # plain containers before save_hyperparameters (which reads these locals): checkpoints stay weights_only
        components = _section("components", components)
        acm, mts, awmt = _section("acm", acm), _section("mts", mts), _section("awmt", awmt)
        chain, fitnets, dml = _section("chain", chain), _section("fitnets", fitnets), _section("dml", dml)
        input_shape = list(_plain(input_shape)) if input_shape is not None else None
        for key, value in components.items():
            if not isinstance(value, bool):
                raise ConfigError(f"model.components.{key}", value, "true or false", f"set {key}: true.")
        super().__init__(net, num_classes, optimizer, scheduler, scheduler_interval, label_smoothing, compile)
        self.method = method
        # components that are not HPM-KD's own loss do not apply to the baselines
        self.comp = {k: bool(v) and (method == "hpmkd" or k in ("ppp", "som")) for k, v in components.items()}
        object.__setattr__(
            self, "teachers", teacher_modules
        )  # not submodules: no checkpoint, no optimiser, no DDP
        for t in teacher_modules:
            t.eval().requires_grad_(False)
        self._check_class_counts(input_shape)

        self.family = family if isinstance(family, NetFamily) or family is None else NetFamily(family)
        needs_family = method == "takd" or (method == "hpmkd" and self.comp["pdc"])
        if needs_family and self.family is None:
            raise ConfigError(
                "model.family",
                None,
                f"the student's NetFamily (needed by {'TAKD' if method == 'takd' else 'PDC'})",
                "set model.family={_target_: compresslab.hpmkd.chain.NetFamily, _recursive_: false, spec: "
                "${model.net}} or model.components.pdc=false.",
            )
        if method == "dml":
            if not isinstance(peer, nn.Module):
                raise ConfigError(
                    "model.peer", peer, "DML's second student network", "set model.peer=${model.net}."
                )
            self.peer = peer
        self.awmt: AttentionWeightedMultiTeacher | None = None
        self._chain_slot = method == "hpmkd" and self.comp["pdc"]
        if method == "hpmkd" and self.comp["awmt"]:
            if input_shape is None:
                raise ConfigError(
                    "model.input_shape",
                    None,
                    "the input shape (AWMT's feature size)",
                    "set ${data.input_shape}.",
                )
            slots = len(teacher_modules) + int(self._chain_slot)
            self.awmt = AttentionWeightedMultiTeacher(
                input_shape,
                slots,
                num_classes,
                hidden=awmt["hidden"],
                dropout=awmt["dropout"],
                embed_dim=awmt["embed_dim"],
                pool=awmt["pool"],
                use_teacher_outputs=awmt["use_teacher_outputs"],
            )
        if method == "fitnets":
            self.regressor = HintRegressor(
                classifier_of(self.net).in_features, classifier_of(teacher_modules[0]).in_features
            )
        self._run_id = uuid.uuid4().hex
        self._prepared = False
        # chosen at setup (ACM) or restored from a checkpoint
        self._t0, self._alpha, self._lr = float(temperature), float(alpha), optimizer_setting(optimizer, "lr")
        self._mts: MetaTemperatureScheduler | None = None
        self._mts_state: dict[str, Any] | None = None
        self._set_models: list[nn.Module | None] = []
        self._set_logits: torch.Tensor | None = None
        self._teacher_feats: torch.Tensor | None = None
        self._mask: torch.Tensor | None = None
        self._info: dict[str, float] = {}
        self._meta: MetaFeatures | None = None
        self._som: SharedOptimizationMemory | None = None
        self._last_ce: float | None = None
        self._sums: dict[str, tuple[torch.Tensor | None, int]] = {}
        self._attn_sum: torch.Tensor | None = None
        self._attn_n = 0
        self.chain_outcome: ChainOutcome | None = None

    # ------------------------------------------------------------------------------------------- checks
    def _check_class_counts(self, input_shape: Sequence[int] | None) -> None:
        if input_shape is None:
            return
        x = torch.zeros(2, *input_shape)
        named = [("model.net", self.net)] + [(f"model.teachers[{i}]", t) for i, t in enumerate(self.teachers)]
        for key, model in named:
            was = model.training
            model.eval()
            with torch.no_grad():
                try:
                    out = model(x)
                except RuntimeError as err:
                    raise ConfigError(
                        key,
                        type(model).__name__,
                        f"a network that accepts inputs of shape {list(input_shape)} (model.input_shape)",
                        f"check the network's input size ({err}).",
                    ) from err
            model.train(was)
            if out.shape[-1] != self.hparams.num_classes:
                raise ConfigError(
                    key,
                    f"{type(model).__name__} with {out.shape[-1]} outputs",
                    f"{self.hparams.num_classes} outputs (model.num_classes, the data's classes)",
                    "use a teacher trained on the same label set as the student (same data config).",
                )

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
        if self.method == "hpmkd" and self.comp["mts"] and teacher_loss:
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

    def _probe(self, teacher: nn.Module, recipe: Recipe) -> float:
        """Validation accuracy of a fresh copy of the initial student distilled from ``teacher`` by ``recipe``."""
        student = copy.deepcopy(self._initial_student)
        fit_distill(
            student,
            self._train_ds,
            recipe,
            self.optimizer_factory,
            teacher=teacher,
            teacher_logits=self._train_outputs_or_none(teacher),
            device=self._device,
        )
        return evaluate(
            student, self._val_ds, self._device, self.hparams.teacher_batch_size, self._limits()[1]
        )

    def _stage_model(self, stage: Any, parent: nn.Module, recipe: Recipe) -> nn.Module:
        def train(model: nn.Module, parent: nn.Module) -> nn.Module:
            return fit_distill(
                model,
                self._train_ds,
                recipe,
                self.optimizer_factory,
                teacher=parent,
                teacher_logits=self._train_outputs_or_none(parent),
                device=self._device,
            )

        som = self._som if self._limits()[0] is None else None
        args = (self.family, stage, parent, train, som, self._data_id, recipe.key(), self._seed)
        if self.trainer.world_size > 1:  # one decision for all ranks: rank 0 looks up, broadcasts, stores
            state = None
            if som is not None and self.trainer.is_global_zero:
                state = som.get_model(
                    stage.arch,
                    stage.params,
                    lineage_tag(parent, self._data_id, {**recipe.key(), "seed": self._seed}),
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
        if self._cacheable and not isinstance(splits.train, IndexedDataset):
            splits.train = IndexedDataset(splits.train)  # batches carry sample indices for the cached logits
        elif self.comp["ppp"] and not self._cacheable and not limited:
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

        chain_model: nn.Module | None = None
        if self.method == "takd" or self.comp["pdc"]:
            chain_model = self._run_chain(teacher0)  # type: ignore[arg-type]
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
        self._info["time/acm_s"] = time.perf_counter() - t0

    def _run_chain(self, teacher0: nn.Module) -> nn.Module | None:
        t0 = time.perf_counter()
        c = self.hparams.chain
        if self.method == "takd":
            pdc = ProgressiveDistillationChain(steps=2, epsilon=None)
        else:
            pdc = ProgressiveDistillationChain(c["steps"], c["epsilon"], c["mode"], c["depths"])
        assert self.family is not None
        plan = pdc.plan(self.family, count_params(teacher0), count_params(self.net))
        stage_recipe = self._recipe(c["epochs"])
        probe_recipe = self._recipe(c["probe_epochs"])
        outcome = pdc.run(
            plan,
            teacher0,
            lambda stage, parent: self._stage_model(stage, parent, stage_recipe),
            (lambda m: self._probe(m, probe_recipe)) if pdc.epsilon is not None else None,
        )
        self.chain_outcome = outcome
        log.info(
            f"PDC: planned {[s.params for s in plan]} params, trained {outcome.steps_trained}, "
            f"probes {[round(s, 4) for s in outcome.scores]}, student's teacher = "
            f"{'teacher' if outcome.best == 0 else f'f_{outcome.best}'} ({outcome.reason})"
        )
        self._info["hpmkd/chain_steps"] = float(outcome.steps_trained)
        self._info["hpmkd/chain_best"] = float(outcome.best)
        self._info["time/chain_s"] = time.perf_counter() - t0
        return None if outcome.best == 0 else outcome.last_model(teacher0)

    def _build_teacher_set(self, teacher0: nn.Module | None, chain_model: nn.Module | None) -> None:
        """The teachers the student learns from, in AWMT slot order, and their cached training logits."""
        if self.method in ("direct", "dml"):
            models: list[nn.Module | None] = []
        elif self.method in ("kd", "fitnets"):
            models = [teacher0]
        elif self.method == "takd":
            models = [chain_model or teacher0]
        elif self.awmt is not None:
            models = ([chain_model] if self._chain_slot else []) + list(self.teachers)
        else:
            models = [chain_model or teacher0]
        self._set_models = models
        self._mask = torch.tensor([m is not None for m in models], dtype=torch.bool) if models else None
        if not models or not self._cacheable:
            return
        logits = [self._outputs(m, "train") if m is not None else None for m in models]
        ref = next(t for t in logits if t is not None)
        self._set_logits = torch.stack(
            [t if t is not None else torch.zeros_like(ref) for t in logits]
        )  # [K, N, C]
        if self.method == "fitnets":
            _, self._teacher_feats = self._outputs(teacher0, "train", features=True)  # type: ignore[arg-type,misc]

    # ------------------------------------------------------------------------------------------- fit
    def on_fit_start(self) -> None:
        if self._set_logits is not None:
            self._set_logits = self._set_logits.to(self.device)
        if self._teacher_feats is not None:
            self._teacher_feats = self._teacher_feats.to(self.device)
        if self._mask is not None:
            self._mask = self._mask.to(self.device)
        if self.method == "hpmkd" and self.comp["mts"]:
            m = self.hparams.mts
            total = max(
                1, int(self.trainer.estimated_stepping_batches) * self.trainer.accumulate_grad_batches
            )
            self._mts = MetaTemperatureScheduler.from_t0(
                self._t0,
                total,
                spread=m["spread"],
                strategy=m["strategy"],
                probe_fraction=m["probe_fraction"],
                blend_fraction=m["blend_fraction"],
                update_every=m["update_every"],
            )
            if self._mts_state is not None:
                self._mts.load_state_dict(self._mts_state)

    def configure_optimizers(self) -> Any:
        if self._lr is not None and self.optimizer_factory is not None:
            base = self.optimizer_factory
            lr = float(self._lr)

            def with_lr(params: Any) -> torch.optim.Optimizer:
                return base(params=params, lr=lr)

            self.optimizer_factory = with_lr
            try:
                return super().configure_optimizers()
            finally:
                self.optimizer_factory = base
        return super().configure_optimizers()

    @property
    def temperature(self) -> float:
        """The KD temperature of the current step."""
        return self._mts.temperature if self._mts is not None else self._t0

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

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x, y = batch[0], batch[1]
        idx = batch[2] if len(batch) > 2 else None
        feats: list[torch.Tensor] = []
        if self.method == "fitnets":
            with capture_penultimate(self.net) as feats:
                logits = self(x)
        else:
            logits = self(x)  # [B, C]
        loss = self._loss(x, y, idx, logits, feats)
        self.train_loss(loss.detach(), weight=len(y))
        self.train_metrics(logits.detach(), y)
        self.log("train/loss", self.train_loss, on_step=True, on_epoch=True, prog_bar=True)
        self.log_dict(self.train_metrics, on_step=False, on_epoch=True, prog_bar=True)
        return loss

    def _loss(
        self, x: torch.Tensor, y: torch.Tensor, idx: torch.Tensor | None, logits: torch.Tensor, feats: list
    ) -> torch.Tensor:
        ce = F.cross_entropy(logits, y, label_smoothing=self.hparams.label_smoothing)
        if self._mts is not None:
            self._last_ce = float(
                ce.detach()
            )  # the schedule's input: the label loss, which does not depend on T
        self._track("train/ce", ce)
        if self.method == "direct":
            return ce
        if self.method == "dml":
            peer_logits = self.peer(x)
            loss_a, loss_b = dml_losses(logits, peer_logits, y, self.hparams.dml["temperature"])
            self._track("train/peer_acc", (peer_logits.argmax(1) == y).float().mean())
            return loss_a + loss_b
        t = self.temperature
        if self._mts is not None:  # the schedule's T, every step (a fixed T is logged once per epoch)
            self.log("train/temperature", t, on_step=True, on_epoch=False, prog_bar=True)
        z = self._teacher_logits(x, idx)  # [K, B, C]
        if self.method == "fitnets":
            f_t = self._teacher_feature_batch(x, idx)
            hint = hint_loss(self.regressor(feats[-1]), f_t)
            self._track("train/hint", hint)
            if self.current_epoch < self.hparams.fitnets["hint_epochs"]:
                return hint
        if self.awmt is not None:
            probs = F.softmax(z / t, -1) if self.awmt.use_teacher_outputs else None
            weights = self.awmt(x, probs, self._mask)  # [B, K]
            p_t = mix_teachers(weights, z, t)
            reg = attention_regulariser(weights)
            self._track("train/attn_entropy", -reg)
            w = weights.detach().sum(0)
            self._attn_sum = w if self._attn_sum is None else self._attn_sum + w
            self._attn_n += len(y)
        else:
            p_t = F.softmax(z[0] / t, -1)
        loss, kl, _ = kd_objective(logits, p_t, y, t, self._alpha, bool(self.hparams.t_squared))
        if self.hparams.label_smoothing:
            loss = self._alpha * kl + (1 - self._alpha) * ce
        self._track("train/kd", kl)
        if self.awmt is not None:
            # the draft's loss α·KL + (1 − α)·CE + β·R_attn has no T² on the KL; with t_squared the KL is T² times
            # larger, so β is too — the balance between the KL and the entropy bonus stays the draft's
            beta = self.hparams.awmt["beta"] * (t**2 if self.hparams.t_squared else 1.0)
            loss = loss + beta * reg
        if self.method == "fitnets" and self.hparams.fitnets["hint_weight_kd"]:
            loss = loss + self.hparams.fitnets["hint_weight_kd"] * hint
        return loss

    def _track(self, name: str, value: torch.Tensor) -> None:
        """Accumulate a per-step training value (on its device, no sync); logged as its epoch mean. Cheaper than
        ``self.log`` per step, which costs about a millisecond per call: more than a small student's step."""
        total, n = self._sums.get(name, (None, 0))
        v = value.detach().float()
        self._sums[name] = (v if total is None else total + v, n + 1)

    def _teacher_feature_batch(self, x: torch.Tensor, idx: torch.Tensor | None) -> torch.Tensor:
        if self._teacher_feats is not None and idx is not None:
            return self._teacher_feats[idx.to(self._teacher_feats.device)]
        teacher = self.teachers[0]
        with torch.no_grad(), capture_penultimate(teacher) as store:
            teacher(x)
        return store[-1]

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self._mts is not None and self._last_ce is not None:
            self._mts.step(self._last_ce)

    def on_train_epoch_end(self) -> None:
        now = time.perf_counter()
        values = {k: v for k, v in self._info.items() if math.isfinite(v)}
        values["time/fit_s"] = now - self._t_start
        values["hpmkd/T0"] = self._t0
        values["hpmkd/alpha"] = self._alpha
        if self._lr is not None:
            values["hpmkd/lr"] = float(self._lr)
        if self._som is not None:
            values["som/hits"] = float(self._som.stats["hits"])
            values["som/misses"] = float(self._som.stats["misses"])
        for name, (total, n) in self._sums.items():
            if n:
                values[name] = float(total) / n
        self._sums = {}
        if self._mts is None and self.method not in ("direct", "dml"):
            values["train/temperature"] = self._t0
        if self._attn_sum is not None and self._attn_n:
            for m, w in enumerate((self._attn_sum / self._attn_n).tolist()):
                values[f"awmt/w{m}"] = w
            self._attn_sum, self._attn_n = None, 0
        self.log_dict(values, on_step=False, on_epoch=True)

    def on_fit_end(self) -> None:
        """Add this run's (meta-features, configuration, result) to the SOM history (rank 0, real runs only)."""
        if (
            self._som is None
            or self._meta is None
            or self.method not in RECORDED_METHODS
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

    # ------------------------------------------------------------------------------------------- state
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["hpmkd"] = {
            "kd": {"T0": self._t0, "alpha": self._alpha, "lr": self._lr},
            "mts": self._mts.state_dict() if self._mts is not None else None,
            "run_id": self._run_id,
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        state = checkpoint.get("hpmkd")
        if not state:
            return
        # runs after setup (Lightning restores after the setup hook) and before the optimiser is built: a resumed
        # run trains on with the configuration it started with (its chain was rebuilt in setup, from the SOM
        # model cache when the recipe is unchanged)
        self._t0, self._alpha, self._lr = (state["kd"][k] for k in ("T0", "alpha", "lr"))
        self._mts_state = state.get("mts")
        self._run_id = state.get("run_id", self._run_id)
