"""SRNet mask training: binary masks on the Linear weights of an unmodified transformer (BERT/RoBERTa, timm ViT).

The method in one file (srnet.md §1; equation numbers are the paper's, arXiv:2210.05211):

* Each masked weight matrix W ∈ R^{d_out×d_in} is **frozen** and gets a real-valued score matrix m̂ of the same
  shape (the only trained tensor). The forward pass uses the effective weight

      W_eff = m ⊙ W,    m_ij = 1[m̂_ij > φ]                                        (Eq. 1; strict '>' as the
                                                                                     official binarizer)

* Backward: the identity straight-through estimator passes ∂L/∂m to the scores unchanged, so

      ∂L/∂m̂ = ∂L/∂m = (∂L/∂W_eff) ⊙ W                                           (STE)

* Score initialisation:
    ``hard`` (Eq. 5, the paper's default): m̂_ij = α·φ if W_ij is not among the s·numel smallest |W|, else 0
    (α = 2, φ = 0.01);  ``soft`` (Eq. 6): m̂_ij = |W_ij| and φ = the k-th smallest |W|.

* Sparsity is **local**: every masked matrix has the same sparsity s, i.e. k = ⌊s·numel⌋ entries pruned.
  Two ways to hold it:
    ``topk`` (default): m is the exact top-(numel − k) of the current scores at every step (equivalently φ is
    re-set to the k-th smallest score before every forward), so the realised sparsity is exact at every step;
    the selection is warm-started from the previous boundary (:mod:`compresslab.srnet.topk`, ties broken by
    flat index);
    ``threshold`` (the paper's rule, to reproduce it): φ is fixed during training and re-set to the k-th
    smallest score immediately before every evaluation (Δt_φ = the eval interval; the LightningModule does it),
    so the realised sparsity drifts in between and is exact whenever the model is evaluated or saved.

* Schedules: fixed s, or the cubic gradual increase (Zhu & Gupta; srnet.md §1.4, §3.5)

      s_t = s_f + (s_i − s_f)·(1 − (t − t_0)/(T − t_0))³   for t_0 ≤ t ≤ T, s_f after T.

What gets masked (srnet.md §1.2): Q, K, V, attention-output, intermediate and output dense layers of every
encoder layer; the pooler and the classifier optionally (the official code masks both). Embeddings, biases and
LayerNorms are never masked. Other hosts name their matrices differently: :data:`TARGET_FAMILIES` says which
Linears are "the per-layer matrices" per host family (``bert``; ``timm_vit``: qkv, proj, fc1, fc2 of every block,
the ``head`` as the classifier), detected from the module names by default. Masks are ``torch.nn.utils.parametrize`` parametrizations, so the host model's
classes are untouched; a mask file is a plain state dict ``{"<linear name>.weight": bool tensor}``.

The fixed-mask parametrization :class:`FixedMask` serves IMP and re-training a subnetwork in isolation
(paradigm b): there the weights are trained and the mask is a constant buffer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn
from torch.nn.utils import parametrize

from compresslab.srnet.topk import TopKMask, exact_topk_keep, flat_nonzero
from compresslab.utils.errors import ConfigError

Init = Literal["hard", "soft"]
Control = Literal["topk", "threshold"]

#: the six per-layer matrices of a BERT/RoBERTa encoder layer (srnet.md §1.2: K, Q, V, AO, I, O)
_LAYER_RE = re.compile(
    r"encoder\.layer\.(\d+)\.(attention\.self\.(query|key|value)|attention\.output\.dense|intermediate\.dense"
    r"|output\.dense)$"
)
_POOLER_RE = re.compile(r"(^|\.)pooler\.dense$")
_CLASSIFIER_RE = re.compile(r"^classifier(\.|$)")


@dataclass(frozen=True)
class TargetFamily:
    """Which Linear layers of a host family are masked, by qualified module name.

    ``layer`` matches the per-block matrices (group 1 = the block index), ``pooler`` the optional pooler,
    ``classifier`` the optional classification head (``None``: the family has no such module).
    """

    layer: re.Pattern[str]
    pooler: re.Pattern[str] | None
    classifier: re.Pattern[str] | None
    example: str  # a layer name, for error messages


#: host family -> its targets; ``target_linears(..., family="auto")`` picks the first family that matches
TARGET_FAMILIES: dict[str, TargetFamily] = {
    "bert": TargetFamily(_LAYER_RE, _POOLER_RE, _CLASSIFIER_RE, "bert.encoder.layer.0.attention.self.query"),
    # timm VisionTransformer blocks: fused QKV, attention output, MLP in/out (the BERT six, with Q/K/V fused)
    "timm_vit": TargetFamily(
        re.compile(r"(?:^|\.)blocks\.(\d+)\.(attn\.qkv|attn\.proj|mlp\.fc1|mlp\.fc2)$"),
        None,
        re.compile(r"(?:^|\.)head$"),
        "blocks.0.attn.qkv",
    ),
}


# ============================================================================================ checks and counts
def check_sparsity(value: object, key: str = "model.sparsity") -> float:
    """``value`` as a float in [0, 1), else a :class:`ConfigError` naming ``key`` and the value."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= float(value) < 1.0:
        raise ConfigError(
            key,
            value,
            "a sparsity in [0, 1) (the fraction of each masked matrix's weights that is pruned)",
            f"set {key}=0.5 (0 keeps every weight; 1 would remove whole matrices).",
        )
    return float(value)


def pruned_count(numel: int, sparsity: float) -> int:
    """k = ⌊s·numel⌋ entries pruned (the official ``int(numel·s)``), at most numel − 1 so a matrix never vanishes."""
    return min(max(int(math.floor(sparsity * numel + 1e-6)), 0), numel - 1)


def kth_smallest(values: torch.Tensor, k: int) -> torch.Tensor:
    """The k-th smallest entry (1-based) of ``values`` (any shape) as a 0-dim tensor on its device."""
    return torch.kthvalue(values.detach().reshape(-1), k).values


# ============================================================================================ autograd
def gate_of(keep: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The bool mask as 0/1 values of ``dtype``: masks are applied as ``W * gate``, a vectorised product, not
    ``torch.where(keep, W, 0)``, which branches per element on CPU and costs ~50× more on a random mask."""
    return keep.to(dtype)


class _MaskedWeight(torch.autograd.Function):
    """W_eff = W ⊙ m with the identity STE: ∂L/∂m̂ = (∂L/∂W_eff) ⊙ W, ∂L/∂W = (∂L/∂W_eff) ⊙ m.

    ``masked`` is W ⊙ m, computed by the caller (:meth:`BinaryMask.masked_weight` keeps it between steps);
    ``keep`` is m as a bool tensor."""

    @staticmethod
    def forward(ctx, weight, scores, masked, keep):  # [d_out, d_in] each (scores: the trained m̂)
        ctx.save_for_backward(weight, keep)
        ctx.scores_dtype = scores.dtype
        return masked.detach()  # W ⊙ m (Eq. 1; pruned entries are ±0), an alias of the caller's cache

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None, None, None]:
        weight, keep = ctx.saved_tensors
        grad_weight = grad * keep if ctx.needs_input_grad[0] else None
        grad_scores = (grad * weight).to(ctx.scores_dtype) if ctx.needs_input_grad[1] else None
        return grad_weight, grad_scores, None, None


# ============================================================================================ parametrizations
class BinaryMask(nn.Module):
    """Parametrization ``W ↦ m ⊙ W`` with trainable scores m̂ and m = 1[m̂ > φ] (Eq. 1), STE backward.

    Args:
        weight: the weight it will mask (read once for the initialisation; not stored).
        sparsity: initial sparsity s ∈ [0, 1) of this matrix.
        init: ``hard`` (Eq. 5) or ``soft`` (Eq. 6).
        control: ``topk`` (exact top-k of the current scores, recomputed whenever they change) or ``threshold``
            (m = 1[m̂ > φ] with φ changed only by :meth:`reset_threshold`).
        alpha, phi: α and φ of the hard init (2 and 0.01 in the paper, Table 4).

    State: ``scores`` (parameter), ``threshold`` φ (buffer) and, in ``extra_state``, the current sparsity and the
    control mode, so a checkpoint restores exactly the mask it was saved with. Outside the state, the forward keeps
    W ⊙ m between steps (:meth:`masked_weight`): one extra copy of the masked matrix in memory, in exchange for
    ~0.4 s less per BERT-base step on two CPU threads.
    """

    def __init__(
        self,
        weight: torch.Tensor,
        sparsity: float = 0.5,
        init: Init = "hard",
        control: Control = "topk",
        alpha: float = 2.0,
        phi: float = 0.01,
    ) -> None:
        super().__init__()
        check_init_args(init, control, alpha, phi)
        self.sparsity = check_sparsity(sparsity)
        self.control: Control = control
        absw = weight.detach().abs().float()  # [d_out, d_in]
        k = pruned_count(absw.numel(), self.sparsity)
        if init == "hard":  # Eq. 5: α·φ for the kept (top-(1−s) |W|), 0 for Min_s(|W|); φ separates them
            scores = exact_topk_keep(absw, k).float() * (alpha * phi)
            threshold = torch.tensor(phi)
        else:  # Eq. 6: scores = |W|, φ = the k-th smallest |W|
            scores = absw.clone()
            threshold = kth_smallest(absw, k) if k > 0 else absw.min() - 1.0
        self.scores = nn.Parameter(scores)
        self.register_buffer("threshold", threshold.detach().float().reshape(()).to(scores.device))
        self.selector = TopKMask()  # warm-started exact top-k (control=topk)
        self._keep: torch.Tensor | None = None
        self._key: tuple | None = None
        # W ⊙ m kept between forwards (masked_weight): the tensor, the weight it was built from, the mask it holds
        self._masked: torch.Tensor | None = None
        self._masked_key: tuple | None = None
        self._masked_keep: torch.Tensor | None = None

    # ---------------------------------------------------------------------------------------- the mask
    @property
    def n_pruned(self) -> int:
        return pruned_count(self.scores.numel(), self.sparsity)

    def _cache_key(self) -> tuple:
        return (self.scores._version, self.scores.data_ptr(), self.sparsity)

    def refresh(self) -> torch.Tensor:
        """Recompute (exact top-k, warm-started from the previous boundary) and cache the bool mask for the
        current scores and sparsity (an ordinary tensor even under inference mode: the backward of a later training
        step saves it)."""
        with torch.inference_mode(False):
            self._keep = self.selector.update(self.scores, self.n_pruned)
        self._key = self._cache_key()
        return self._keep

    def keep(self) -> torch.Tensor:
        """The current binary mask m as a bool tensor [d_out, d_in] (no gradient)."""
        if self.control == "threshold":
            return self.scores.detach() > self.threshold  # Eq. 1 with the current φ
        if self._keep is None or self._key != self._cache_key():
            return self.refresh()
        return self._keep

    def reset_threshold(self) -> None:
        """φ ← k-th smallest score (the official ``reset_threshold``; skipped when that equals the max score)."""
        k = self.n_pruned
        if k == 0:
            self.threshold.fill_(float(self.scores.detach().min()) - 1.0)
            return
        kth = kth_smallest(self.scores, k)
        if bool(kth < self.scores.detach().max()):
            self.threshold.copy_(kth)

    def masked_weight(self, weight: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """W ⊙ m for ``keep`` = m (:meth:`keep`), without gradient.

        Kept between forwards and rewritten in place only where the mask flipped since (one step moves few scores
        across the boundary): a forward costs an XOR over the bool mask instead of a float multiply over the matrix
        and a bool → float conversion (issue 16's speed target). Rebuilt whole when the weight itself changes
        (trained, loaded, moved). Each entry is ``W_ij * m_ij``, bit for bit what a full ``W * m`` gives."""
        key = (weight.data_ptr(), weight._version, weight.dtype, weight.device, weight.shape)
        # inference_mode(False): a cache first built during validation must stay writable in training
        with torch.inference_mode(False), torch.no_grad():
            w = weight.detach()
            if self._masked is None or self._masked_key != key:
                self._masked = w * gate_of(keep, w.dtype)
            elif self._masked_keep is not keep:
                flat_keep = keep.reshape(-1)
                flipped = flat_nonzero(torch.logical_xor(flat_keep, self._masked_keep.reshape(-1)))  # [f]
                if flipped.numel():
                    self._masked.view(-1)[flipped] = w.reshape(-1)[flipped] * flat_keep[flipped]
        self._masked_key, self._masked_keep = key, keep
        return self._masked

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        keep = self.keep()
        return _MaskedWeight.apply(weight, self.scores, self.masked_weight(weight, keep), keep)

    # ---------------------------------------------------------------------------------------- state
    def get_extra_state(self) -> dict:
        return {"sparsity": self.sparsity, "control": self.control}

    def set_extra_state(self, state: dict) -> None:
        self.sparsity = check_sparsity(state["sparsity"], "checkpoint mask sparsity")
        self.control = state["control"]
        self._keep = self._key = self._masked = self._masked_key = self._masked_keep = None
        self.selector.reset()

    def extra_repr(self) -> str:
        return f"shape={tuple(self.scores.shape)}, sparsity={self.sparsity:.4f}, control={self.control}"


class FixedMask(nn.Module):
    """Parametrization ``W ↦ m ⊙ W`` with a constant bool mask buffer (IMP, re-training a subnetwork)."""

    def __init__(self, mask: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("mask", mask.detach().to(torch.bool).clone())
        self._gate: torch.Tensor | None = None
        self._gate_key: tuple | None = None

    def keep(self) -> torch.Tensor:
        return self.mask

    def gate(self, dtype: torch.dtype) -> torch.Tensor:
        """The mask as 0/1 values of ``dtype``, cached until the mask changes (IMP prunes it in place)."""
        key = (self.mask._version, self.mask.data_ptr(), dtype)
        if self._gate is None or self._gate_key != key:
            self._gate, self._gate_key = gate_of(self.mask, dtype), key
        return self._gate

    @property
    def sparsity(self) -> float:
        return 1.0 - float(self.mask.sum()) / self.mask.numel()

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        return weight * self.gate(weight.dtype)

    def extra_repr(self) -> str:
        return f"shape={tuple(self.mask.shape)}, sparsity={self.sparsity:.4f}"


def check_init_args(init: str, control: str, alpha: float, phi: float) -> None:
    if init not in ("hard", "soft"):
        raise ConfigError("model.init", init, "'hard' (Eq. 5) or 'soft' (Eq. 6)", "set model.init=hard.")
    if control not in ("topk", "threshold"):
        raise ConfigError(
            "model.control",
            control,
            "'topk' (exact per-step sparsity) or 'threshold' (the paper's periodic reset)",
            "set model.control=topk.",
        )
    if not phi > 0:
        raise ConfigError("model.phi", phi, "a threshold φ > 0", "set model.phi=0.01 (paper Table 4).")
    if not alpha > 1:
        raise ConfigError(
            "model.alpha",
            alpha,
            "α > 1 (kept scores α·φ must exceed φ)",
            "set model.alpha=2 (paper Table 4).",
        )


# ============================================================================================ targets
def target_family(model: nn.Module, family: str = "auto") -> TargetFamily:
    """The :class:`TargetFamily` named ``family``, or (``auto``) the first whose layer names ``model`` has.

    Raises:
        ConfigError: an unknown family name, or (``auto``) a model that matches none of them.
    """
    if family != "auto":
        if family not in TARGET_FAMILIES:
            raise ConfigError(
                "model.target_family",
                family,
                f"'auto' or one of {sorted(TARGET_FAMILIES)}",
                "leave it 'auto' (detected from the module names).",
            )
        return TARGET_FAMILIES[family]
    names = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    for fam in TARGET_FAMILIES.values():
        if any(fam.layer.search(n) for n in names):
            return fam
    raise ConfigError(
        "model.net",
        type(model).__name__,
        "a transformers BERT/RoBERTa model (layers named '*.encoder.layer.<i>.attention.self.query' etc.) or a "
        "timm ViT (layers named '*.blocks.<i>.attn.qkv' etc.)",
        "use a BertForSequenceClassification / RobertaForSequenceClassification checkpoint or a timm "
        "VisionTransformer, or add the host's names to compresslab.srnet.masks.TARGET_FAMILIES.",
    )


def target_linears(
    model: nn.Module,
    pooler: bool = True,
    classifier: bool = True,
    layers: Iterable[int] | None = None,
    family: str = "auto",
) -> dict[str, nn.Linear]:
    """The Linear layers SRNet masks, by qualified name in ``model`` (a transformers ``*ForSequenceClassification``
    or a timm ViT; ``family`` as :func:`target_family`).

    BERT encoder layers: Q, K, V, attention output, intermediate, output (of ``layers`` only when given); then
    ``*.pooler.dense`` (BERT) when ``pooler`` and ``classifier*`` Linears (BERT's ``classifier``, RoBERTa's
    ``classifier.dense``/``classifier.out_proj``) when ``classifier``. timm ViT blocks: ``attn.qkv``,
    ``attn.proj``, ``mlp.fc1``, ``mlp.fc2``; ``head`` when ``classifier``.

    Raises:
        ConfigError: ``model`` has no layers of the family (of ``layers``, when given).
    """
    fam = target_family(model, family)
    wanted = None if layers is None else {int(i) for i in layers}
    out: dict[str, nn.Linear] = {}
    for name, module in model.named_modules():
        if not isinstance(module, nn.Linear):
            continue
        if m := fam.layer.search(name):
            if wanted is None or int(m.group(1)) in wanted:
                out[name] = module
        elif fam.pooler is not None and fam.pooler.search(name):
            if pooler:
                out[name] = module
        elif fam.classifier is not None and fam.classifier.search(name) and classifier:
            out[name] = module
    if not any(fam.layer.search(n) for n in out):
        raise ConfigError(
            "model.net",
            type(model).__name__,
            f"a model whose per-layer Linears are named like '*{fam.example}'"
            + (f" (layers {sorted(wanted)})" if wanted is not None else ""),
            "pick layers the model has, or a model of that family.",
        )
    return out


def masks_of(model: nn.Module) -> dict[str, BinaryMask | FixedMask]:
    """The mask parametrizations registered on ``model``: qualified Linear name → mask module."""
    out: dict[str, BinaryMask | FixedMask] = {}
    for name, module in model.named_modules():
        if parametrize.is_parametrized(module, "weight"):
            for p in module.parametrizations.weight:
                if isinstance(p, BinaryMask | FixedMask):
                    out[name] = p
    return out


def _check_unmasked(model: nn.Module, names: Iterable[str]) -> None:
    masked = masks_of(model)
    again = [n for n in names if n in masked]
    if again:
        raise ConfigError(
            "model.net", again[:3], "Linear layers without a mask", "attach masks once per model."
        )


# ============================================================================================ attach
def attach_masks(
    model: nn.Module,
    sparsity: float = 0.5,
    init: Init = "hard",
    control: Control = "topk",
    alpha: float = 2.0,
    phi: float = 0.01,
    pooler: bool = True,
    classifier: bool = True,
    train_classifier: bool = False,
    layers: Iterable[int] | None = None,
    family: str = "auto",
) -> dict[str, BinaryMask]:
    """Freeze every parameter of ``model`` and register a :class:`BinaryMask` on each target Linear's weight.

    After this, the only trainable tensors are the scores (and the classifier when ``train_classifier``, as the
    official ``--train_classifier``; the scripts leave it false). ``family``: the host's target names
    (:func:`target_family`). Returns Linear name → mask.
    """
    sparsity = check_sparsity(sparsity)
    check_init_args(init, control, alpha, phi)
    fam = target_family(model, family)
    targets = target_linears(model, pooler, classifier, layers, family)
    _check_unmasked(model, targets)
    model.requires_grad_(False)
    if train_classifier:
        if fam.classifier is None:
            raise ConfigError(
                "model.train_classifier",
                True,
                "false for a host family without a classifier",
                "set it false.",
            )
        for name, p in model.named_parameters():
            if fam.classifier.search(name.rsplit(".", 1)[0]):  # "<classifier module>.<weight|bias>"
                p.requires_grad_(True)
    masks: dict[str, BinaryMask] = {}
    for name, linear in targets.items():
        mask = BinaryMask(linear.weight, sparsity, init, control, alpha, phi)
        parametrize.register_parametrization(linear, "weight", mask)
        masks[name] = mask
    return masks


def masked(
    net: nn.Module,
    sparsity: float = 0.5,
    init: Init = "hard",
    control: Control = "topk",
    alpha: float = 2.0,
    phi: float = 0.01,
    pooler: bool = True,
    classifier: bool = False,
    train_classifier: bool = False,
    family: str = "auto",
) -> nn.Module:
    """``net`` with :func:`attach_masks` applied: a ``model.net`` for any classifier module (CE on the masked
    network; only the scores, and the head when ``train_classifier``, are trained)."""
    attach_masks(
        net, sparsity, init, control, alpha, phi, pooler, classifier, train_classifier, family=family
    )
    return net


def attach_fixed_masks(
    model: nn.Module,
    masks: Mapping[str, torch.Tensor] | None = None,
    pooler: bool = True,
    classifier: bool = True,
) -> dict[str, FixedMask]:
    """Register a :class:`FixedMask` on each target Linear (all-ones where ``masks`` gives none); weights keep
    their ``requires_grad``. ``masks`` maps Linear names (or ``"<name>.weight"``) to bool tensors."""
    targets = target_linears(model, pooler, classifier)
    _check_unmasked(model, targets)
    given = {k.removesuffix(".weight"): v for k, v in (masks or {}).items()}
    out: dict[str, FixedMask] = {}
    for name, linear in targets.items():
        m = given.get(name)
        m = torch.ones_like(linear.weight, dtype=torch.bool) if m is None else m.to(linear.weight.device)
        fixed = FixedMask(m)
        parametrize.register_parametrization(linear, "weight", fixed)
        out[name] = fixed
    return out


def remove_masks(model: nn.Module) -> None:
    """Bake m ⊙ W into plain weights and remove every mask parametrization (a standard model again)."""
    for name in list(masks_of(model)):
        parametrize.remove_parametrizations(model.get_submodule(name), "weight", leave_parametrized=True)


# ============================================================================================ sparsity control
def set_sparsity(masks: Mapping[str, BinaryMask], sparsity: float) -> None:
    """Set the target sparsity of every mask (top-k masks follow at their next forward / :func:`recalibrate`)."""
    sparsity = check_sparsity(sparsity)
    for m in masks.values():
        m.sparsity = sparsity


def _pool_map(fn, items: list, on_cpu: bool) -> None:
    """Apply ``fn`` to every item, over a thread pool for CPU tensors (``torch.kthvalue`` is single-threaded per
    call and releases the GIL, so matrices run in parallel), sequentially otherwise."""
    threads = torch.get_num_threads()
    if not on_cpu or threads <= 1 or len(items) < 4:
        for i in items:
            fn(i)
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(fn, items))


def recalibrate(masks: Mapping[str, BinaryMask]) -> None:
    """Exact per-matrix re-calibration of all masks: top-k masks recompute their mask, threshold masks re-set
    φ to the k-th smallest score (one ``torch.kthvalue`` per matrix, matrices in parallel on CPU)."""
    items = list(masks.values())

    def one(m: BinaryMask) -> None:
        with torch.no_grad():
            if m.control == "topk":
                m.refresh()
            else:
                m.reset_threshold()

    _pool_map(one, items, on_cpu=bool(items) and items[0].scores.device.type == "cpu")


def realised_sparsity(model_or_masks: nn.Module | Mapping[str, BinaryMask | FixedMask]) -> dict[str, float]:
    """Fraction of zeros in each mask, by Linear name, plus ``"overall"`` (over all masked weights)."""
    masks = masks_of(model_or_masks) if isinstance(model_or_masks, nn.Module) else model_or_masks
    out: dict[str, float] = {}
    zeros = total = 0
    with torch.no_grad():
        for name, m in masks.items():
            keep = m.keep()
            z = keep.numel() - int(keep.sum())
            out[name] = z / keep.numel()
            zeros, total = zeros + z, total + keep.numel()
    out["overall"] = zeros / total if total else 0.0
    return out


# ============================================================================================ schedule, mask files
# (compresslab.srnet.schedule / .mask_files; imported last: they use the names above)
from compresslab.srnet.mask_files import load_mask_file, mask_state_dict, save_masks  # noqa: E402
from compresslab.srnet.schedule import SparsitySchedule  # noqa: E402

__all__ = [
    "BinaryMask",
    "FixedMask",
    "SparsitySchedule",
    "attach_fixed_masks",
    "attach_masks",
    "check_sparsity",
    "gate_of",
    "kth_smallest",
    "load_mask_file",
    "mask_state_dict",
    "masked",
    "masks_of",
    "pruned_count",
    "realised_sparsity",
    "recalibrate",
    "remove_masks",
    "save_masks",
    "set_sparsity",
    "target_family",
    "target_linears",
    "TARGET_FAMILIES",
    "TargetFamily",
]
