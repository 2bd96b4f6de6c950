"""Attention-Weighted Multi-Teacher (AWMT, HPM-KD component 3): per-sample weights over M teachers.

Draft §4.4 (``shared/papers/hpmkd.md`` §2.3):

* h = MLP₁([x; t_1 … t_M]), a(x) = softmax(MLP₂(h)) — x the input's features, t_m learned teacher embeddings,
  both MLPs two layers with ReLU; hidden size 128, dropout 0.2;
* mixed teacher distribution p_AWMT(x) = Σ_m a_m(x) · softmax(z_m(x) / T);
* L = α·KL(p_AWMT ‖ p_S) + (1 − α)·CE + β·R_attn with R_attn = −(1/N) Σ_i H(a(x_i)), β = 0.01 — minimising
  R_attn maximises the weights' entropy, against collapse onto one teacher;
* trained jointly with the student (Algorithm 3): the attention network and the embeddings get their gradient
  through the KL term (and R_attn), in the student's optimiser.

Notes (ours):

* The embeddings enter MLP₁ as an input that is the same for every sample, so on their own they act as a learned
  bias; the per-sample part of a(x) comes from x. ``use_teacher_outputs=True`` also feeds the teachers' softened
  predictions to MLP₁ (not in the draft), which lets the weights depend on what each teacher says about x.
* Image inputs are average-pooled to ``pool × pool`` before flattening (3·32·32 → 3·8·8 = 192 features by
  default) so MLP₁ stays small.
* MLP₂'s last layer starts at zero: training starts from equal weights (the plain teacher average).
* A ``mask`` removes teacher slots (e.g. the chain's slot when the chain kept no model): their weight is exactly 0.
* :class:`~compresslab.hpmkd.module.HPMKDModule` multiplies β by T² when it multiplies the KL by T² (Hinton's
  scaling, absent from the draft's formula), keeping the draft's balance between the KL and the entropy bonus;
  with β alone against a T²-scaled KL the weights collapsed onto one teacher within a few epochs in our runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from compresslab.utils.errors import ConfigError


class AttentionWeightedMultiTeacher(nn.Module):
    """Per-sample softmax weights over ``num_teachers`` teachers.

    Args:
        input_shape: shape of one input (features are its flattening, pooled for images).
        num_teachers: M ≥ 1.
        num_classes: classes (only used with ``use_teacher_outputs``).
        hidden: width of both MLPs (draft: 128).
        dropout: dropout after each hidden layer (draft: 0.2).
        embed_dim: size of each teacher embedding t_m.
        pool: images ``[C, H, W]`` are average-pooled to ``[C, pool, pool]`` (None: no pooling).
        use_teacher_outputs: also feed the teachers' softened outputs to MLP₁ (not in the draft).
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_teachers: int,
        num_classes: int = 0,
        hidden: int = 128,
        dropout: float = 0.2,
        embed_dim: int = 16,
        pool: int | None = 8,
        use_teacher_outputs: bool = False,
    ) -> None:
        super().__init__()
        if isinstance(num_teachers, bool) or not isinstance(num_teachers, int) or num_teachers < 1:
            raise ConfigError("model.teachers", num_teachers, "at least one teacher", "list the teachers.")
        if not 0 <= dropout < 1:
            raise ConfigError("model.awmt.dropout", dropout, "a probability in [0, 1)", "the draft uses 0.2.")
        if hidden < 1 or embed_dim < 1:
            raise ConfigError(
                "model.awmt.hidden/embed_dim", (hidden, embed_dim), "sizes ≥ 1", "e.g. 128 / 16."
            )
        shape = [int(s) for s in input_shape]
        self.pool = pool if (pool and len(shape) == 3 and shape[1] > pool) else None
        in_dim = shape[0] * self.pool**2 if self.pool else math.prod(shape)
        self.num_teachers, self.num_classes = num_teachers, num_classes
        self.use_teacher_outputs = use_teacher_outputs
        if use_teacher_outputs and num_classes < 2:
            raise ConfigError("model.num_classes", num_classes, "≥ 2 with use_teacher_outputs", "set it.")
        extra = num_teachers * num_classes if use_teacher_outputs else 0
        self.embeddings = nn.Parameter(torch.randn(num_teachers, embed_dim) * 0.1)  # t_1 … t_M
        self.mlp1 = nn.Sequential(
            nn.Linear(in_dim + num_teachers * embed_dim + extra, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(inplace=True),
        )
        self.mlp2 = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, num_teachers),
        )
        nn.init.zeros_(self.mlp2[-1].weight)
        nn.init.zeros_(self.mlp2[-1].bias)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Input features ``[B, D]``: the flattened input, average-pooled first for large images."""
        if self.pool is not None:
            x = F.adaptive_avg_pool2d(x, self.pool)
        return x.flatten(1)

    def forward(
        self,
        x: torch.Tensor,
        teacher_probs: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Weights ``[B, M]`` (rows sum to 1). ``teacher_probs`` ``[M, B, C]`` is needed with
        ``use_teacher_outputs``; ``mask`` ``[M]`` (bool, True = usable) zeroes excluded teachers."""
        feats = self.features(x)  # [B, D]
        b = feats.shape[0]
        parts = [feats, self.embeddings.reshape(1, -1).expand(b, -1)]  # [B, D], [B, M·E]
        if self.use_teacher_outputs:
            if teacher_probs is None:
                raise ValueError("use_teacher_outputs=True needs teacher_probs [M, B, C]")
            parts.append(teacher_probs.permute(1, 0, 2).reshape(b, -1))  # [B, M·C]
        scores = self.mlp2(self.mlp1(torch.cat(parts, dim=1)))  # [B, M]
        if mask is not None:
            if not bool(mask.any()):
                raise ValueError("AWMT mask excludes every teacher")
            scores = scores.masked_fill(~mask.to(scores.device).bool().unsqueeze(0), float("-inf"))
        return F.softmax(scores, dim=-1)


def mix_teachers(weights: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """p_AWMT = Σ_m a_m · softmax(z_m / T): weights ``[B, M]``, logits ``[M, B, C]`` → ``[B, C]``."""
    probs = F.softmax(teacher_logits.float() / temperature, dim=-1)  # [M, B, C]
    return torch.einsum("bm,mbc->bc", weights, probs)


def attention_entropy(weights: torch.Tensor) -> torch.Tensor:
    """H(a(x)) per sample ``[B]`` in nats (0·log 0 = 0)."""
    return -(weights * torch.log(weights.clamp_min(1e-12))).sum(-1)


def attention_regulariser(weights: torch.Tensor) -> torch.Tensor:
    """R_attn = −(1/N) Σ_i H(a(x_i)) (draft); adding β·R_attn to the loss rewards spread-out weights."""
    return -attention_entropy(weights).mean()
