"""The small training engine behind HPM-KD's inner runs, and batched (DDP-sharded) teacher inference.

HPM-KD trains models *inside* one run besides the student: the Progressive Distillation Chain's intermediate
models, the ACM's quick-validation runs, TAKD's assistant, the chain's probe students. A nested Lightning
``Trainer.fit`` inside the outer one's ``setup`` would share the DataModule, the loggers and, under DDP, the
process-group environment of the outer trainer, so these runs use :func:`fit_distill`: a plain loop (the run's
own optimiser class, per-step cosine decay, α·KL + (1 − α)·CE) that shards its batches and wraps the model in
``DistributedDataParallel`` when a process group is up, so every rank works and none waits.

Why not Lightning Fabric (issue 18 asked for it where possible; checked against lightning 2.6): these runs happen
*inside* the outer Trainer's ranks, in ``setup("fit")``. A ``Fabric`` with more than one device refuses ``setup``
until ``launch()`` is called (``Fabric._validate_launched``), and ``launch()`` starts processes instead of joining
the running group: under ``trainer=ddp_cpu`` (``ddp_spawn``) its multiprocessing launcher spawns ``devices`` new
workers from each rank, under ``trainer=ddp`` the subprocess launcher re-runs the script unless ``LOCAL_RANK`` is
set. Joining the outer group works only through Fabric's private ``_launched`` flag. A nested ``Trainer.fit`` has
the same launch problem and also runs the outer run's DataModule hooks, loggers and callbacks. A Fabric for
single-process runs only would make two code paths for one loop whose Lightning-replaceable part is the DDP
wrapper, the bf16 autocast and ``backward`` (about ten lines); the rest (seeded sample order, per-step cosine, MTS
steps, cached-logit lookup by sample index) is the recipe itself and the SOM model cache's key
(:meth:`Recipe.key`), and stays as it is.

Teacher outputs (PPP, draft §4.6): :func:`batched_outputs` runs a frozen model over a dataset once, in large
batches under ``inference_mode``; under DDP each rank computes a strided shard and the shards are all-gathered,
so "teacher logits computed once, in parallel" is literally DDP inference. The results go through the SOM
teacher cache (:meth:`SharedOptimizationMemory.get_or_compute`) keyed by :func:`dataset_identity`.

A cached logit per training sample is only valid when the training split yields the same tensor every time it is
read; :func:`is_deterministic` checks that (random crops/flips are not), and the callers fall back to computing the
teacher on every batch otherwise.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Subset

from compresslab.hpmkd.datasets import (  # noqa: F401  (re-exported: the names' old home)
    IndexedDataset,
    _fingerprint,
    _transform_of,
    dataset_identity,
    dataset_labels,
    dataset_transform,
    is_deterministic,
    unwrap,
)
from compresslab.hpmkd.temperature import MetaTemperatureScheduler
from compresslab.models.kd import soft_kl
from compresslab.utils.errors import ConfigError


def _autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA (the GPU trainer's precision), nothing on CPU."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


# -------------------------------------------------------------------------------------------- distributed
def _world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _all_gather_rows(local: torch.Tensor, n: int, rank: int, world: int) -> torch.Tensor:
    """Rows ``rank::world`` from every rank → the full ``[n, …]`` tensor in index order."""
    per = math.ceil(n / world)
    padded = local.new_zeros((per, *local.shape[1:]))
    padded[: len(local)] = local
    gathered = [torch.empty_like(padded) for _ in range(world)]
    dist.all_gather(gathered, padded)
    out = local.new_empty((n, *local.shape[1:]))
    for r, part in enumerate(gathered):
        count = len(range(r, n, world))
        out[r::world] = part[:count]
    return out


# ------------------------------------------------------------------------------------------ penultimate
def classifier_of(model: nn.Module) -> nn.Linear:
    """The final linear classifier (timm's ``get_classifier()``, else the last ``nn.Linear`` registered)."""
    get = getattr(model, "get_classifier", None)
    if callable(get):
        head = get()
        if isinstance(head, nn.Linear):
            return head
    last = None
    for m in model.modules():
        if isinstance(m, nn.Linear):
            last = m
    if last is None:
        raise ConfigError(
            "model.net",
            type(model).__name__,
            "a network whose classifier is an nn.Linear (FitNets hints on the classifier's input)",
            "use a build_net architecture or a timm model.",
        )
    return last


@contextlib.contextmanager
def capture_penultimate(model: nn.Module) -> Iterator[list[torch.Tensor]]:
    """Within the block, every forward of ``model`` appends the classifier's input ``[B, D]`` to the list."""
    store: list[torch.Tensor] = []

    def hook(_m: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        store.append(inputs[0].flatten(1))

    handle = classifier_of(model).register_forward_pre_hook(hook)
    try:
        yield store
    finally:
        handle.remove()


# ---------------------------------------------------------------------------------------------- inference
@torch.inference_mode()
def batched_outputs(
    model: nn.Module,
    ds: Dataset,
    device: torch.device | str = "cpu",
    batch_size: int = 512,
    features: bool = False,
    max_batches: int | None = None,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Logits ``[N, C]`` (and penultimate features ``[N, D]`` if ``features``) of a frozen model over ``ds``,
    on CPU, in dataset order. Under an initialised process group each rank computes rows ``rank::world`` and the
    shards are all-gathered. ``max_batches`` (smoke runs) computes only the first batches and leaves the rest zero.
    """
    rank, world = _world()
    device = torch.device(device)
    n = len(ds)  # type: ignore[arg-type]
    rows = list(range(rank, n, world))
    if max_batches is not None:
        rows = rows[: max_batches * batch_size]
    loader = DataLoader(Subset(unwrap(ds), rows), batch_size=batch_size, shuffle=False)
    was_training = model.training
    model.eval().to(device)
    logits, feats = [], []
    ctx = capture_penultimate(model) if features else contextlib.nullcontext([])
    with ctx as store:
        for batch in loader:
            x = batch[0].to(device, non_blocking=True)
            with _autocast(device):
                logits.append(model(x).float())
            if features:
                feats.append(store.pop().float())
    model.train(was_training)

    def assemble(parts: list[torch.Tensor], width: int) -> torch.Tensor:
        local = torch.cat(parts) if parts else torch.zeros(0, width, device=device)
        if world > 1:
            full_local = local.new_zeros((len(range(rank, n, world)), width))
            full_local[: len(local)] = local
            return _all_gather_rows(full_local, n, rank, world).cpu()
        out = local.new_zeros((n, width))
        out[: len(local)] = local
        return out.cpu()

    c = logits[0].shape[1] if logits else 0
    out_logits = assemble(logits, c)
    if not features:
        return out_logits
    return out_logits, assemble(feats, feats[0].shape[1] if feats else 0)


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Top-1 accuracy of ``[N, C]`` logits against ``[N]`` labels."""
    if len(labels) == 0:
        return float("nan")
    return float((logits.argmax(1) == labels.to(logits.device)).float().mean())


@torch.inference_mode()
def evaluate(
    model: nn.Module,
    ds: Dataset,
    device: torch.device | str = "cpu",
    batch_size: int = 512,
    max_batches: int | None = None,
) -> float:
    """Top-1 accuracy of ``model`` on ``ds`` (sharded and all-reduced under DDP)."""
    rank, world = _world()
    device = torch.device(device)
    rows = list(range(rank, len(ds), world))  # type: ignore[arg-type]
    if max_batches is not None:
        rows = rows[: max_batches * batch_size]
    loader = DataLoader(Subset(unwrap(ds), rows), batch_size=batch_size, shuffle=False)
    was_training = model.training
    model.eval().to(device)
    stats = torch.zeros(2, device=device)
    for batch in loader:
        x, y = batch[0].to(device), batch[1].to(device)
        with _autocast(device):
            stats[0] += (model(x).argmax(1) == y).sum()
        stats[1] += len(y)
    model.train(was_training)
    if world > 1:
        dist.all_reduce(stats)
    return float(stats[0] / stats[1]) if stats[1] > 0 else float("nan")


# ------------------------------------------------------------------------------------------------- losses
def kd_objective(
    student_logits: torch.Tensor,
    teacher_probs: torch.Tensor,
    labels: torch.Tensor,
    temperature: float,
    alpha: float,
    t_squared: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """α·KL + (1 − α)·CE (draft Eq. for PDC steps and the student); returns (loss, kl, ce)."""
    ce = F.cross_entropy(student_logits, labels)
    kl = soft_kl(student_logits, teacher_probs, temperature, t_squared)
    return alpha * kl + (1 - alpha) * ce, kl, ce


# --------------------------------------------------------------------------------------------- fit loop
@dataclass
class Recipe:
    """How an inner run trains (chain stage, probe, ACM quick validation, TAKD assistant).

    Attributes:
        epochs: passes over the training split.
        batch_size: global batch size.
        lr: peak learning rate (cosine decay to 0 over the run, per step).
        temperature, alpha: the KD loss α·KL_T + (1 − α)·CE; α = 0 trains on labels only.
        t_squared: multiply the KL by T².
        mts: MetaTemperatureScheduler keyword arguments (T then follows the schedule, starting at ``t0 =
            temperature``); None keeps T fixed.
        max_batches: cap on batches per epoch (smoke runs), None for all.
        seed: seeds the model's data order.
    """

    epochs: int
    batch_size: int
    lr: float
    temperature: float = 4.0
    alpha: float = 0.7
    t_squared: bool = True
    mts: dict[str, Any] | None = None
    max_batches: int | None = None
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def key(self) -> dict[str, Any]:
        """Plain values identifying the recipe (part of the SOM model-cache tag)."""
        return {k: v for k, v in asdict(self).items() if k != "max_batches"}


def fit_distill(
    student: nn.Module,
    train_ds: Dataset,
    recipe: Recipe,
    optimizer_factory: Callable[..., torch.optim.Optimizer],
    teacher: nn.Module | None = None,
    teacher_logits: torch.Tensor | None = None,
    device: torch.device | str = "cpu",
) -> nn.Module:
    """Train ``student`` in place with α·KL(teacher_T ‖ student_T) + (1 − α)·CE and return it (in eval mode).

    The teacher is ``teacher_logits`` ``[N, C]`` (per training sample, precomputed) or a frozen ``teacher`` run on
    each batch, or nothing (α is then ignored: cross-entropy only). Under DDP the model is wrapped in
    ``DistributedDataParallel`` and the batches are sharded.
    """
    if recipe.epochs < 1 or recipe.batch_size < 1:
        raise ConfigError(
            "hpmkd.recipe", (recipe.epochs, recipe.batch_size), "epochs ≥ 1 and batch_size ≥ 1", "fix them."
        )
    rank, world = _world()
    device = torch.device(device)
    student.to(device).train()
    if teacher is not None:
        teacher.to(device).eval()
    gen = torch.Generator().manual_seed(recipe.seed)
    indexed = IndexedDataset(unwrap(train_ds))
    per_rank = max(1, recipe.batch_size // world)
    if world > 1:
        sampler: Any = DistributedSampler(indexed, world, rank, shuffle=True, seed=recipe.seed)
        loader = DataLoader(indexed, batch_size=per_rank, sampler=sampler, drop_last=False)
    else:
        sampler = None
        loader = DataLoader(indexed, batch_size=per_rank, shuffle=True, generator=gen, drop_last=False)
    per_epoch = len(loader) if recipe.max_batches is None else min(len(loader), recipe.max_batches)
    total = max(1, per_epoch * recipe.epochs)
    model: nn.Module = student
    if world > 1:
        model = nn.parallel.DistributedDataParallel(
            student, device_ids=[device.index] if device.type == "cuda" else None
        )
    opt = optimizer_factory(params=[p for p in student.parameters() if p.requires_grad], lr=recipe.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total))
    )
    mts = (
        MetaTemperatureScheduler.from_t0(recipe.temperature, total, **recipe.mts)
        if recipe.mts is not None and (teacher is not None or teacher_logits is not None)
        else None
    )
    use_teacher = (teacher is not None or teacher_logits is not None) and recipe.alpha > 0
    for epoch in range(recipe.epochs):
        if sampler is not None:
            sampler.set_epoch(epoch)
        for b, (x, y, idx) in enumerate(loader):
            if b >= per_epoch:
                break
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            t = mts.temperature if mts is not None else recipe.temperature
            with _autocast(device):
                logits = model(x).float()
                if use_teacher:
                    if teacher_logits is not None:
                        z_t = teacher_logits[idx].to(device)
                    else:
                        with torch.no_grad():
                            z_t = teacher(x)  # type: ignore[misc]
            if use_teacher:
                loss, _, ce = kd_objective(
                    logits, F.softmax(z_t.float() / t, -1), y, t, recipe.alpha, recipe.t_squared
                )
            else:
                loss = ce = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if mts is not None:
                mts.step(float(ce.detach()))
    return student.eval()


def make_optimizer_factory(
    factory: Callable[..., torch.optim.Optimizer] | None, weight_decay: float | None = None
) -> Callable[..., torch.optim.Optimizer]:
    """The run's optimiser factory (a partial), or AdamW; ``lr`` is always passed by :func:`fit_distill`."""
    if factory is not None:
        return factory
    wd = 0.0 if weight_decay is None else weight_decay

    def adamw(params: Sequence[nn.Parameter], lr: float) -> torch.optim.Optimizer:
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd)

    return adamw


def optimizer_setting(factory: Any, name: str, default: Any = None) -> Any:
    """A keyword of a ``functools.partial`` optimiser factory (e.g. its ``lr``), else ``default``."""
    keywords: Mapping[str, Any] = getattr(factory, "keywords", None) or {}
    return keywords.get(name, default)
