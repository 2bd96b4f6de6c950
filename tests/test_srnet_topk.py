"""The warm-started exact top-k (compresslab.srnet.topk): bit-identical to a from-scratch stable-sort selection for
random score drifts, schedule changes and ties, and actually warm (the band usually holds the new boundary)."""

from __future__ import annotations

import pytest
import torch

from compresslab.srnet.masks import BinaryMask, pruned_count
from compresslab.srnet.topk import TopKMask, exact_topk_keep


def reference_keep(scores: torch.Tensor, n_pruned: int) -> torch.Tensor:
    """Prune the n_pruned first entries of a stable ascending sort: (score, flat index) order."""
    order = torch.sort(scores.reshape(-1), stable=True).indices
    keep = torch.ones(scores.numel(), dtype=torch.bool)
    keep[order[:n_pruned]] = False
    return keep.view_as(scores)


@pytest.mark.parametrize("drift", [1e-4, 1e-2, 1.0])
def test_incremental_topk_equals_a_full_selection_for_random_drifts(drift):
    g = torch.Generator().manual_seed(0)
    scores = torch.randn(64, 48, generator=g)
    sel = TopKMask()
    for step in range(60):
        k = pruned_count(scores.numel(), 0.2 + 0.5 * min(step / 40, 1.0))  # a schedule: k changes too
        keep = sel.update(scores, k)
        assert torch.equal(keep, reference_keep(scores, k)), step
        assert int((~keep).sum()) == k
        scores = scores + drift * torch.randn(scores.shape, generator=g)  # an optimizer step
    if drift < 1.0:
        assert sel.hits > 45 and sel.misses < 10  # warm: the boundary stayed inside the band


def test_ties_are_broken_by_flat_index_in_both_paths():
    g = torch.Generator().manual_seed(1)
    plateau = torch.zeros(20, 30)
    plateau[:, ::3] = 0.02  # hard init: 0 / α·φ, 400 entries tied at 0
    sel = TopKMask()
    for k in (150, 400, 500, 399):  # inside, at the edge of and beyond the tied block
        assert torch.equal(sel.update(plateau, k), reference_keep(plateau, k)), k
    # Adam's first step moves every score by ±lr: two new tied plateaus straddling the boundary
    moved = plateau + 1e-3 * torch.sign(torch.randn(plateau.shape, generator=g))
    for k in (300, 301, 450):
        assert torch.equal(sel.update(moved, k), reference_keep(moved, k)), k
        assert torch.equal(exact_topk_keep(moved, k), reference_keep(moved, k)), k
    quantised = torch.randint(0, 5, (40, 40), generator=g).float()  # heavy ties everywhere
    for k in (1, 321, 800, 1599):
        assert torch.equal(sel.update(quantised, k), reference_keep(quantised, k)), k
    assert torch.equal(sel.update(quantised, 0), torch.ones(40, 40, dtype=torch.bool))


def test_binary_mask_keeps_exact_sparsity_through_training_steps():
    g = torch.Generator().manual_seed(2)
    w = torch.randn(96, 32, generator=g)
    mask = BinaryMask(w, 0.6, "soft")
    opt = torch.optim.AdamW([mask.scores], lr=0.02)
    for step in range(25):
        keep = mask.keep()
        assert torch.equal(keep, reference_keep(mask.scores.detach(), mask.n_pruned)), step
        loss = (mask(w) * torch.randn(w.shape, generator=g)).sum()
        loss.backward()
        opt.step()
        opt.zero_grad()
    assert mask.selector.hits > 15


@pytest.mark.parametrize("control", ["topk", "threshold"])
def test_the_kept_masked_weight_equals_w_times_m_and_its_ste_gradients_at_every_step(control):
    """BinaryMask keeps W ⊙ m between forwards and rewrites only the flipped entries: after every optimizer step the
    forward is bit for bit W * m of the current mask, and the STE gradients are (∂L/∂W_eff) ⊙ W and ⊙ m."""
    g = torch.Generator().manual_seed(3)
    w = torch.randn(64, 40, generator=g).requires_grad_()  # trained too here, to check ∂L/∂W
    mask = BinaryMask(w.detach(), 0.5, "soft", control=control)
    opt = torch.optim.SGD([mask.scores], lr=0.05)
    flips = 0
    previous = mask.keep().clone()
    for step in range(12):
        if control == "threshold" and step % 4 == 0:
            mask.reset_threshold()
        keep = mask.keep()
        flips += int((keep != previous).sum())
        previous = keep.clone()
        out = mask(w)
        assert torch.equal(out, w.detach() * keep.float()), step  # bit for bit, signs of the zeros included
        assert torch.equal(torch.signbit(out), torch.signbit(w.detach() * keep.float())), step
        upstream = torch.randn(w.shape, generator=g)
        out.backward(upstream)
        assert torch.equal(mask.scores.grad, upstream * w.detach()), step
        assert torch.equal(w.grad, upstream * keep.float()), step
        w.grad = None
        opt.step()
        opt.zero_grad()
    assert flips > 50  # the mask did move: the in-place updates were exercised

    with torch.no_grad():  # the weight itself changes (loaded, trained): the kept product follows it
        w.mul_(2.0)
    assert torch.equal(mask(w), w.detach() * mask.keep().float())


def test_a_masked_weight_first_built_under_inference_mode_still_trains():
    """Lightning validates under inference_mode (the sanity check runs first): the kept W ⊙ m must stay an ordinary
    tensor that training can update in place."""
    g = torch.Generator().manual_seed(4)
    w = torch.randn(32, 16, generator=g)
    mask = BinaryMask(w, 0.5, "soft")
    with torch.inference_mode():
        evaluated = mask(w).clone()
    opt = torch.optim.SGD([mask.scores], lr=0.5)
    for _ in range(3):
        mask(w).sum().backward()
        opt.step()
        opt.zero_grad()
    assert not torch.equal(mask.keep().float() * w, evaluated)  # the mask moved …
    assert torch.equal(mask(w), w * mask.keep().float())  # … and the forward followed it
