"""Exact per-matrix top-k masks, recomputed cheaply after small score updates.

SRNet's local sparsity control (srnet.md §1.1, §1.4) keeps, in every masked matrix, the ``numel − k`` largest
scores and prunes the ``k`` smallest. A from-scratch selection (``torch.kthvalue`` over every matrix) costs as much
as a sizeable part of a BERT-base training step on CPU, but between two optimizer steps the scores move little, so
the k-th smallest score moves little too. :class:`TopKMask` keeps the previous k-th value ``v`` and a band half-width
``δ``, and per update:

1. counts ``below = #(s < v − δ)`` and ``upto = #(s ≤ v + δ)`` (two comparisons over the matrix);
2. if ``below < k ≤ upto`` the new k-th value lies in the band ``[v − δ, v + δ]`` and is the
   ``(k − below)``-th smallest of the few band elements (``torch.kthvalue`` on a small candidate set);
3. otherwise (the boundary moved further than ``δ``) it falls back to a full ``torch.kthvalue`` and widens ``δ``.

Either way the result is the exact selection; ``δ`` only decides how much work it takes. It follows the observed
movement of the k-th value (at least four times the last move, shrinking by at most 10 % per update, widened
fourfold after a miss): a wide band costs a slightly larger candidate set, a miss costs a full selection.

Ties are broken deterministically: the pruned set is the ``k`` smallest entries in (score, flat index) order, i.e.
among scores equal to the k-th value the lowest flat indices are pruned first — the order of a stable ascending
sort. The full selection and the incremental one therefore give the same mask bit for bit, whatever ties the
scores hold (the 0 / α·φ plateaus of hard init are exactly such ties). Scores must be finite: a NaN (a diverged
run) makes the full selection raise.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def flat_nonzero(mask: torch.Tensor) -> torch.Tensor:
    """Ascending flat indices of the ``True`` entries of a 1-D bool tensor. On CPU through NumPy's
    ``flatnonzero``, ~3× faster than ``torch.nonzero`` on the sparse masks this module sees (the band, the flipped
    entries of a mask)."""
    if mask.device.type == "cpu":
        return torch.from_numpy(np.flatnonzero(mask.numpy()))
    return mask.nonzero().squeeze(1)


def _keep_around(flat: torch.Tensor, k: int, lo: float, hi: float) -> tuple[torch.Tensor, float] | None:
    """Keep-mask of the ``numel − k`` largest of ``flat`` (1-D, ties as the module docstring) and the k-th smallest
    value, provided that value lies in ``[lo, hi]``; ``None`` when it does not."""
    keep = flat > hi  # everything above the band is kept                                        [n] bool
    from_band = flat >= lo  # the band and above; keep ⊆ from_band as lo ≤ hi                       [n] bool
    # (count_nonzero: bool .sum() widens to int64)
    below = flat.numel() - int(torch.count_nonzero(from_band))  # #(s < lo): pruned whatever the k-th value
    upto = flat.numel() - int(torch.count_nonzero(keep))  # #(s ≤ hi)
    if not below < k <= upto:
        return None
    band_idx = flat_nonzero(torch.logical_xor(from_band, keep))  # lo ≤ s ≤ hi, ascending            [m]
    band = flat[band_idx]  # the candidates                                                       [m]
    kth = torch.kthvalue(band, k - below).values
    above = band > kth
    keep[band_idx[above]] = True
    tied = band_idx[band == kth]  # ascending flat indices
    # the lowest flat indices among the ties are pruned
    n_prune_tied = k - below - int(torch.count_nonzero(band < kth))
    keep[tied[n_prune_tied:]] = True
    return keep, float(kth)


def exact_topk_keep(scores: torch.Tensor, n_pruned: int) -> torch.Tensor:
    """Bool mask of ``scores`` keeping all but the ``n_pruned`` smallest (ties: lowest flat indices pruned first),
    computed from scratch; same shape as ``scores``."""
    return TopKMask().update(scores, n_pruned)


class TopKMask:
    """The exact top-k keep-mask of a score matrix, warm-started from the previous update (module docstring).

    ``update(scores, n_pruned)`` returns the bool mask (shape of ``scores``) with exactly ``numel − n_pruned``
    ``True``: the largest scores, ties broken by flat index. Counters ``hits`` / ``misses`` say how often the band
    held the new boundary.
    """

    def __init__(self) -> None:
        self.kth: float | None = None  # the last k-th smallest score
        self.delta = 0.0  # band half-width
        self.hits = 0
        self.misses = 0

    def reset(self) -> None:
        self.kth = None
        self.delta = 0.0

    def update(self, scores: torch.Tensor, n_pruned: int) -> torch.Tensor:
        flat = scores.detach().reshape(-1)
        n = flat.numel()
        if n_pruned <= 0:
            self.reset()
            return torch.ones_like(scores, dtype=torch.bool)
        if n_pruned >= n:
            raise ValueError(f"n_pruned={n_pruned} must be below the number of scores ({n})")
        found = None
        if self.kth is not None and math.isfinite(self.kth):
            found = _keep_around(flat, n_pruned, self.kth - self.delta, self.kth + self.delta)
        if found is None:  # first call, or the boundary left the band: full selection
            kth = float(torch.kthvalue(flat, n_pruned).values)
            found = _keep_around(flat, n_pruned, kth, kth)
            if found is None:  # the k-th value of finite scores always lies in [kth, kth]
                raise ValueError(
                    f"mask scores contain NaN ({int(torch.isnan(flat).sum())} of {n}): training diverged; lower the "
                    "learning rate or check the loss"
                )
            if self.kth is not None:
                self.misses += 1
                self.delta = max(4.0 * abs(found[1] - self.kth), 4.0 * self.delta)
        else:
            self.hits += 1
            self.delta = max(4.0 * abs(found[1] - self.kth), 0.9 * self.delta)
        keep, self.kth = found
        return keep.view_as(scores)


__all__ = ["TopKMask", "exact_topk_keep", "flat_nonzero"]
