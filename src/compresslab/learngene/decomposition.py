"""Learngene linear decomposition of a ViT (Lin et al., NeurIPS 2024) and TLEG (Xia et al., AAAI 2024).

The math of learngene.md §1–§3 in one file:

* **Eq. 1** — every block parameter of layer l (qkv, proj, fc1, fc2 weights and biases; norm1, norm2 gains and
  biases) is a fixed linear combination of N shared *learngenes*:  W_l = Σ_{n=1..N} a(l, n) · A_n.
* **Eq. 2–3** — a(l, n) = P_n(x_l), x_l = (l − 1)/L (l = 1..L), with P the first-kind Chebyshev polynomials
  T_0 = 1, T_1 = x, T_{n+1} = 2x·T_n − T_{n−1}. Table 1 also compares Taylor (xⁿ), Fourier and Legendre bases.
* **Index offset** — read literally (``index="text"``), learngene n is paired with T_n, so A_1 is weighted by
  T_1(x) = x, which is 0 at layer 1: a 1-learngene model has an all-zero first block (LayerNorm gains included;
  ``tests/test_learngene.py`` shows it). ``index="shifted"`` pairs learngene n with T_{n−1}: the first term is
  constant and with N = 2, W_l = A_1 + x_l·A_2 is exactly TLEG's θ_base + (l/L)·θ_ilayer. Shifted is the default
  (the reading that trains; the paper's code is not public).
* **Eq. 9** — recomposition to depth L' with the first k learngenes uses the same coefficients at
  x = (l − 1)/L' (the *target* depth, as TLEG's code does).

* **Precision** — the sum Σ a(l, n)·A_n runs in fp32 with autocast disabled, so ``bf16-mixed`` training composes
  exact fp32 weights (a bf16 sum would round a LayerNorm gain of 1 + 1e-3 to 1.0); the blocks then run under
  autocast like any timm block.
* **Bases** — every basis has rank N on the layer grid for N ≤ L (no gene without gradient); the Fourier basis
  orders cosine before sine for that reason (:func:`basis_functions`).

The learngene ViT is an unmodified timm ``VisionTransformer`` (the *host*) whose block parameters are removed;
:meth:`LearngeneViT.forward` composes all L blocks' weights once per call (one [L, k] × [k, P] product per
parameter tensor, so once per training step, not per sample) and runs the host with them through
``torch.func.functional_call``. Patch embedding, position embedding, cls token, final norm and head stay
ordinary single-copy host parameters (as in TLEG's code).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import timm
import torch
from torch import nn
from torch.func import functional_call

from compresslab.utils.checkpoint import read_state_dict
from compresslab.utils.errors import ConfigError

BASES = ("chebyshev", "taylor", "fourier", "legendre")
INDEXING = ("shifted", "text")
GENE_INITS = ("zeros", "normal")


# ------------------------------------------------------------------------------------------------ coefficients
def basis_functions(basis: str, x: torch.Tensor, count: int) -> torch.Tensor:
    """The first ``count`` functions P_0..P_{count−1} of a basis at points x [L] → [L, count] (float64).

    * chebyshev (Eq. 2): T_0 = 1, T_1 = x, T_{n+1} = 2x·T_n − T_{n−1}
    * taylor: P_n = xⁿ
    * legendre: P_0 = 1, P_1 = x, (n+1)·P_{n+1} = (2n+1)·x·P_n − n·P_{n−1}
    * fourier (period 1, x ∈ [0, 1)): 1, cos 2πx, sin 2πx, cos 4πx, sin 4πx, …, i.e. P_{2m−1} = cos 2πmx,
      P_{2m} = sin 2πmx. Cosine comes first in each frequency so that the functions are full rank on the layer
      grid: at x_l = (l − 1)/L the first L of them are the real DFT basis of length L (orthogonal columns), while
      the top frequency m = L/2 of an even L has sin(π(l − 1)) = 0 at every layer: with sine first, gene N = L
      had an all-zero coefficient column (rank N − 1, a gene that never gets a gradient). Every basis here has
      rank N on x_l for N ≤ L (``tests/test_learngene.py``).
    """
    if basis not in BASES:
        raise ConfigError(
            "basis", basis, f"one of {list(BASES)}", "set basis=chebyshev (the paper's choice)."
        )
    x = x.to(torch.float64)
    cols: list[torch.Tensor] = []
    for n in range(count):
        if n == 0:
            cols.append(torch.ones_like(x))
        elif basis == "fourier":
            freq = 2.0 * math.pi * ((n + 1) // 2)  # m = 1, 1, 2, 2, … for n = 1, 2, 3, 4, …
            cols.append(torch.cos(freq * x) if n % 2 == 1 else torch.sin(freq * x))
        elif basis == "taylor":
            cols.append(x**n)
        elif n == 1:
            cols.append(x.clone())
        elif basis == "chebyshev":
            cols.append(2.0 * x * cols[n - 1] - cols[n - 2])
        else:  # legendre
            cols.append(((2 * n - 1) * x * cols[n - 1] - (n - 1) * cols[n - 2]) / n)
    return torch.stack(cols, dim=1) if cols else x.new_zeros(len(x), 0)  # [L, count]


def coefficients(depth: int, count: int, basis: str = "chebyshev", index: str = "shifted") -> torch.Tensor:
    """a(l, n) for l = 1..depth, n = 1..count (Eq. 3): a [depth, count] float64 matrix.

    ``index="shifted"``: a(l, n) = P_{n−1}((l − 1)/depth) (constant first term; N = 2 is TLEG).
    ``index="text"``: a(l, n) = P_n((l − 1)/depth), as the paper's text (Eq. 3–4) writes.
    """
    _check_positive("depth", depth, "the number of transformer blocks, e.g. depth=12")
    _check_positive("num_learngenes", count, "e.g. num_learngenes=12")
    if index not in INDEXING:
        raise ConfigError("index", index, f"one of {list(INDEXING)}", "set index=shifted (TLEG-compatible).")
    x = torch.arange(depth, dtype=torch.float64) / depth  # [L]: x_l = (l − 1)/L
    offset = 0 if index == "shifted" else 1
    return basis_functions(basis, x, count + offset)[:, offset:]  # [L, N]


def _check_positive(key: str, value: Any, example: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(key, value, "an integer >= 1", f"set {key} to a positive integer ({example}).")


# ------------------------------------------------------------------------------------------------- the model
class LearngeneViT(nn.Module):
    """A timm ViT of ``depth`` blocks whose block parameters are Σ_n a(l, n)·A_n over ``num_learngenes`` genes.

    Each learngene A_n is a parameter-only copy of one timm ``Block`` (``learngenes.<n>.attn.qkv.weight`` …), so
    a learngene checkpoint reads like a ViT state dict. Phases of incremental component training (ICT) use
    ``active`` (genes in the sum) and ``trainable_from`` (genes below it are frozen): phase {1, 2, 4, 8, 12}
    with ``trainable_from`` = the previous phase's count; SCT is ``active = N``, ``trainable_from = 0``.

    Args:
        model_name: timm ViT architecture (``deit_base_patch16_224``, ``vit_tiny_patch16_224`` …).
        num_learngenes: N, learngenes held (the last phase's count).
        active: learngenes used in the composition (default N).
        trainable_from: genes with index < this are frozen (ICT); default 0, or the checkpoint's ``active``
            when ``init_from`` is given.
        basis: ``chebyshev`` | ``taylor`` | ``fourier`` | ``legendre``.
        index: ``shifted`` (T_{n−1}, default) | ``text`` (T_n).
        gene_init: initialisation of genes 2..N (and of new genes in a phase): ``zeros`` (the phase starts from
            the previous phase's function exactly) or ``normal`` (trunc-normal 0.02, norm gains 0, as TLEG's θ_ilayer).
            Gene 1 gets timm's block initialisation.
        init_from: a checkpoint of a previous phase (Lightning ``.ckpt`` or a state dict) to start from.
        freeze_shared: freeze the single-copy *shared* parameters (patch and position embedding, cls token, final
            norm, head) in every phase. Default ``False``: they train in every phase (the paper does not say, see
            learngene.md §2; TLEG trains in one stage). Then the shared parameters drift across ICT phases, so the first k genes of the last
            phase's checkpoint are *not* the phase-k model: recomposing k = 1 from phase 4 uses phase 4's
            embeddings and head.
        freeze_shared_after_phase1: train the shared parameters only in the phase that has no frozen genes
            (ICT phase 1, or SCT) and freeze them in every later phase (``trainable_from > 0``). The genes and
            the shared parameters of phase j then stay bit-identical through all later phases, so k genes of the
            final checkpoint are exactly the model of the phase that trained them (for k a phase count).
        **vit_kwargs: timm ``VisionTransformer`` arguments (``depth``, ``embed_dim``, ``num_heads``, ``img_size``,
            ``patch_size``, ``in_chans``, ``num_classes`` …); ``depth`` is required.
    """

    def __init__(
        self,
        model_name: str = "vit_tiny_patch16_224",
        num_learngenes: int = 12,
        active: int | None = None,
        trainable_from: int | None = None,
        basis: str = "chebyshev",
        index: str = "shifted",
        gene_init: str = "zeros",
        init_from: str | None = None,
        freeze_shared: bool = False,
        freeze_shared_after_phase1: bool = False,
        **vit_kwargs: Any,
    ) -> None:
        super().__init__()
        if "depth" not in vit_kwargs:
            raise ConfigError(
                "depth", None, "the number of blocks", "set model.net.depth (e.g. 12 for DeiT-B)."
            )
        depth = vit_kwargs["depth"]
        self.config = dict(
            model_name=model_name, basis=basis, index=index, gene_init=gene_init, vit_kwargs=dict(vit_kwargs)
        )
        self.register_buffer(
            "coeff", coefficients(depth, num_learngenes, basis, index).float(), persistent=False
        )
        host = timm.create_model(model_name, pretrained=False, **vit_kwargs)
        if not hasattr(host, "blocks") or len(host.blocks) != depth:
            raise ConfigError(
                "model_name", model_name, "a timm VisionTransformer", "use e.g. deit_base_patch16_224."
            )
        # Learngenes: N parameter-only copies of one block; then the host's block parameters are removed.
        self.learngenes = nn.ModuleList(copy.deepcopy(host.blocks[0]) for _ in range(num_learngenes))
        self.gene_names = [name for name, _ in host.blocks[0].named_parameters()]
        for block in host.blocks:
            for name in self.gene_names:
                owner, leaf = _owner(block, name)
                owner._parameters[leaf] = None  # an empty slot (as bias=False): filled by functional_call
        self.host = host
        self.freeze_shared = bool(freeze_shared)
        self.freeze_shared_after_phase1 = bool(freeze_shared_after_phase1)
        if gene_init not in GENE_INITS:
            raise ConfigError("gene_init", gene_init, f"one of {list(GENE_INITS)}", "set gene_init=zeros.")
        for gene in self.learngenes[1:]:
            init_gene(gene, gene_init)
        # persistent: a checkpoint records how many genes it trained
        self.register_buffer("active", torch.tensor(num_learngenes if active is None else active))
        loaded = load_learngenes(self, init_from) if init_from else 0
        self.set_phase(
            num_learngenes if active is None else active,
            (loaded if init_from else 0) if trainable_from is None else trainable_from,
        )

    # ---------------------------------------------------------------------------------------------- phases
    @property
    def depth(self) -> int:
        return self.coeff.shape[0]

    @property
    def num_learngenes(self) -> int:
        return len(self.learngenes)

    @property
    def shared_frozen(self) -> bool:
        """Whether the shared parameters (embeddings, cls token, final norm, head) are frozen in this phase."""
        return self.freeze_shared or (self.freeze_shared_after_phase1 and self.trainable_from > 0)

    def set_phase(self, active: int, trainable_from: int = 0) -> None:
        """Use genes [0, active) in the sum; train genes [trainable_from, active); freeze the rest.

        The shared parameters train unless ``freeze_shared``, or ``freeze_shared_after_phase1`` and
        ``trainable_from > 0`` (a later ICT phase).
        """
        n = self.num_learngenes
        if isinstance(active, bool) or not isinstance(active, int) or not 1 <= active <= n:
            raise ConfigError(
                "active", active, f"an integer in [1, {n}] (num_learngenes={n})", "lower active."
            )
        if not isinstance(trainable_from, int) or not 0 <= trainable_from < active:
            raise ConfigError(
                "trainable_from",
                trainable_from,
                f"an integer in [0, {active - 1}] (active={active})",
                "ICT: the previous phase's count; SCT: 0.",
            )
        self.active.fill_(active)
        self.trainable_from = trainable_from
        for i, gene in enumerate(self.learngenes):
            gene.requires_grad_(trainable_from <= i < active)
        self.host.requires_grad_(not self.shared_frozen)

    # ------------------------------------------------------------------------------------------- composition
    def compose(
        self, k: int | None = None, depth_coeff: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        """Block parameters of every layer (Eq. 1 / Eq. 9): {``blocks.<l>.<name>``: Σ_n a(l, n)·A_n}.

        ``k`` genes (default ``active``); ``depth_coeff`` [L', ≥k] replaces the model's own coefficients
        (recomposition to another depth).
        """
        k = int(self.active) if k is None else k
        a = (self.coeff if depth_coeff is None else depth_coeff)[:, :k]  # [L, k]
        genes = [dict(g.named_parameters()) for g in self.learngenes[:k]]
        out: dict[str, torch.Tensor] = {}
        # The sum runs in fp32 with autocast off: under bf16 autocast the matmul would round every composed
        # tensor to bf16 (8 bits of mantissa: a LayerNorm gain of 1 + 1e-3 composes to exactly 1.0, and on CPU
        # LayerNorm rejects bf16 gains next to fp32 activations). The composed tensors keep the genes' dtype
        # (fp32 under `*-mixed` precision), so the block then runs under autocast like any timm block.
        with torch.autocast(a.device.type, enabled=False):
            for name in self.gene_names:
                stacked = torch.stack([g[name] for g in genes])  # [k, *shape]
                flat = stacked.flatten(1).to(torch.float32)  # [k, P]
                w = (a.to(torch.float32) @ flat).to(stacked.dtype)  # [L, P]
                for layer, w_l in enumerate(w.view(len(a), *stacked.shape[1:]).unbind(0)):  # [*shape] each
                    out[f"blocks.{layer}.{name}"] = w_l
        return out

    def no_weight_decay(self) -> set[str]:
        """Parameters DeiT/timm exempt from weight decay: the host's (``host.pos_embed``, ``host.cls_token`` …).

        With ``timm.optim.create_optimizer_v2(model, "adamw", weight_decay=0.05)`` (or
        :func:`compresslab.learngene.optim.weight_decay_groups`) these and every 1-D tensor (biases, LayerNorm
        gains and biases of the shared parameters *and* of every learngene) get no weight decay.
        """
        own = dict(self.named_parameters())
        return {f"host.{name}" for name in self.host.no_weight_decay() if f"host.{name}" in own}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images [B, C, H, W] → logits [B, num_classes]: the host ViT run with the composed blocks."""
        return functional_call(self.host, self.compose(), (x,), strict=False)

    def extra_repr(self) -> str:
        c = self.config
        return (
            f"{c['model_name']}, depth={self.depth}, learngenes={self.num_learngenes}, active={int(self.active)}, "
            f"trainable_from={self.trainable_from}, basis={c['basis']}, index={c['index']}, "
            f"shared_frozen={self.shared_frozen}"
        )


def _owner(module: nn.Module, name: str) -> tuple[nn.Module, str]:
    path, _, leaf = name.rpartition(".")
    return (module.get_submodule(path) if path else module), leaf


def init_gene(gene: nn.Module, how: str) -> None:
    """Initialise one learngene: ``zeros`` everywhere, or trunc-normal(0.02) weights with zero biases/norm gains."""
    for p in gene.parameters():
        with torch.no_grad():
            if how == "normal" and p.dim() > 1:
                nn.init.trunc_normal_(p, std=0.02)
            else:
                p.zero_()


# ------------------------------------------------------------------------------------------ checkpoints
def load_learngenes(model: LearngeneViT, source: str | Path | Mapping[str, torch.Tensor]) -> int:
    """Load the trained genes (those below the source's ``active``) and the shared parameters into ``model``.

    Returns the number of genes loaded. Genes above it keep their initialisation (new genes of a phase).
    Raises ConfigError on a checkpoint of another width/patch/depth configuration or with too many genes.
    """
    sd = dict(source) if isinstance(source, Mapping) else read_state_dict(source)
    where = "the state dict" if isinstance(source, Mapping) else str(source)
    if "active" not in sd or not any(k.startswith("learngenes.") for k in sd):
        raise ConfigError(
            "init_from",
            where,
            "a learngene checkpoint (keys learngenes.*, active)",
            "use a run of model=learngene/* (its checkpoints/last.ckpt).",
        )
    loaded = int(sd["active"])
    if loaded > model.num_learngenes:
        raise ConfigError(
            "num_learngenes",
            model.num_learngenes,
            f">= {loaded} (the checkpoint's trained genes)",
            f"set model.net.num_learngenes >= {loaded}.",
        )
    own = model.state_dict()
    wanted = {k: v for k, v in sd.items() if not k.startswith("learngenes.") or int(k.split(".")[1]) < loaded}
    wanted.pop("active")
    for key, value in wanted.items():
        if key not in own:
            raise ConfigError(
                "init_from",
                where,
                f"only keys of this model; found unknown '{key}'",
                "check model_name and the ViT arguments against the checkpoint's run.",
            )
        if own[key].shape != value.shape:
            raise ConfigError(
                "init_from",
                where,
                f"'{key}' of shape {tuple(own[key].shape)} (this model), got {tuple(value.shape)}",
                "the checkpoint is from a different width/patch size: use the same embed_dim, num_heads, "
                "patch_size, img_size as the run that wrote it.",
            )
    model.load_state_dict(wanted, strict=False)
    return loaded


# ------------------------------------------------------------------------------------------ recomposition
MODES = ("free", "const")


def recompose(model: LearngeneViT, depth: int, k: int | None = None, mode: str = "free") -> nn.Module:
    """Build a ViT of ``depth`` blocks from the first ``k`` trained learngenes (Eq. 9, x = (l − 1)/depth).

    ``free`` ("w/o const"): a plain timm ``VisionTransformer``; every layer is independent afterwards.
    ``const`` ("w/ const"): a :class:`LearngeneViT` with k genes, trainable parameters grow with k, not depth.
    Both give identical outputs right after recomposition; no training is needed.
    """
    _check_positive("depth", depth, "the target number of blocks, e.g. depth=6")
    trained = int(model.active)
    k = trained if k is None else k
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= trained:
        raise ConfigError(
            "k",
            k,
            f"an integer in [1, {trained}] (the model's trained learngenes)",
            f"use at most k={trained}, or train more learngenes first.",
        )
    if mode not in MODES:
        raise ConfigError(
            "mode", mode, f"one of {list(MODES)}", "mode=free (w/o const) or mode=const (w/ const)."
        )
    cfg = model.config
    vit_kwargs = {**cfg["vit_kwargs"], "depth": depth}
    shared = {k_: v for k_, v in model.host.state_dict().items()}  # embeddings, final norm, head
    if mode == "const":
        with torch.device("meta"):
            out = LearngeneViT(
                cfg["model_name"],
                num_learngenes=k,
                basis=cfg["basis"],
                index=cfg["index"],
                gene_init="zeros",
                **vit_kwargs,
            )
        genes = {
            f"learngenes.{i}.{n}": p for i in range(k) for n, p in model.learngenes[i].named_parameters()
        }
        state = {**{f"host.{n}": v for n, v in shared.items()}, **genes}
        out.load_state_dict(_detached(state), strict=False, assign=True)
        out.coeff = coefficients(depth, k, cfg["basis"], cfg["index"]).float()
        out.active = torch.tensor(k)
        out.set_phase(k, 0)
        return out
    a = coefficients(depth, k, cfg["basis"], cfg["index"]).to(model.coeff)  # [L', k]
    with torch.no_grad():
        blocks = model.compose(k, depth_coeff=a)
    with torch.device("meta"):
        out = timm.create_model(cfg["model_name"], pretrained=False, **vit_kwargs)
    out.load_state_dict(_detached({**shared, **blocks}), strict=True, assign=True)
    return out


def _detached(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in state.items()}
