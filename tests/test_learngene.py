"""Learngene decomposition, phases and recomposition: the math pinned to closed forms and paper values."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import timm
import torch

from compresslab.learngene import (
    BASES,
    LearngeneViT,
    basis_functions,
    coefficients,
    export_timm,
    load_learngenes,
    pretrained_vit,
    recompose,
    weight_decay_groups,
)
from compresslab.learngene.cli import main as recompose_main
from compresslab.models import DistillationModule, kd_loss
from compresslab.tables import learngene as lg_tables
from compresslab.utils.errors import ConfigError
from compresslab.utils.hydra_app import PROJECT_ROOT
from tests.helpers.cli import QUIET_CLI, run_cli
from tests.helpers.compose import compose_cfg

TINY = dict(img_size=8, patch_size=4, in_chans=1, num_classes=3, embed_dim=16, num_heads=2)


def tiny(depth: int = 4, n: int = 3, **kw) -> LearngeneViT:
    torch.manual_seed(0)
    return LearngeneViT(
        "vit_tiny_patch16_224", num_learngenes=n, depth=depth, gene_init="normal", **{**TINY, **kw}
    )


# ------------------------------------------------------------------------------------------------ coefficients
def test_coefficients_equal_the_papers_printed_table():
    a = coefficients(12, 6)  # [12, 6]
    for layer, row in lg_tables.PAPER_COEFFICIENTS.items():
        np.testing.assert_allclose(a[layer - 1].numpy(), row, atol=5.1e-4)
    assert a.shape == (12, 6)


def test_chebyshev_legendre_taylor_fourier_closed_forms():
    x = torch.arange(7, dtype=torch.float64) / 7
    cheb = basis_functions("chebyshev", x, 6)
    torch.testing.assert_close(cheb, torch.stack([torch.cos(n * torch.arccos(x)) for n in range(6)], 1))
    leg = basis_functions("legendre", x, 6)
    ref = np.stack([np.polynomial.legendre.Legendre.basis(n)(x.numpy()) for n in range(6)], 1)
    np.testing.assert_allclose(leg.numpy(), ref, atol=1e-12)
    torch.testing.assert_close(basis_functions("taylor", x, 4), torch.stack([x**n for n in range(4)], 1))
    four = basis_functions("fourier", x, 5)  # cosine first in each frequency
    want = [torch.ones_like(x), *(f(2 * math.pi * m * x) for m in (1, 2) for f in (torch.cos, torch.sin))]
    torch.testing.assert_close(four, torch.stack(want, 1))


@pytest.mark.parametrize("basis", BASES)
def test_every_basis_has_rank_n_for_every_n_up_to_the_depth(basis):
    """No dead gene: a(l, n) has rank N on the layer grid for N ≤ L ≤ 12 (``text``: N ≤ L − 1, see below)."""
    for depth in range(1, 13):
        for n in range(1, depth + 1):
            assert int(torch.linalg.matrix_rank(coefficients(depth, n, basis))) == n, (basis, depth, n)
            if n < depth:  # text = columns 2..N+1 of the shifted N+1: full rank while N + 1 ≤ L
                assert int(torch.linalg.matrix_rank(coefficients(depth, n, basis, "text"))) == n
    # text at N = L loses a rank where a function vanishes on the whole grid: x^n at x_1 = 0 (Taylor), and
    # sin(π·L·x_l) = sin(π(l − 1)) = 0 (Fourier, even L) — the reason the shifted reading is the default
    if basis == "taylor":
        assert int(torch.linalg.matrix_rank(coefficients(6, 6, basis, "text"))) == 5


@pytest.mark.parametrize("depth", [7, 12])
def test_fourier_basis_at_n_equal_l_is_the_orthogonal_real_dft(depth):
    """x_l = (l − 1)/L, N = L: AᵀA = diag(L, L/2, …, L/2 [, L for cos(π·L·x) when L is even]) — rank L."""
    a = coefficients(depth, depth, "fourier")  # [L, L]
    want = torch.full((depth,), depth / 2, dtype=torch.float64)
    want[0] = depth
    if depth % 2 == 0:
        want[-1] = depth  # cos(π(l − 1)) = ±1: the top frequency the sine-first ordering had as all zeros
    torch.testing.assert_close(a.T @ a, torch.diag(want), rtol=0, atol=1e-10)


def test_text_index_shifts_by_one_and_zeroes_the_first_block_of_a_one_gene_model():
    torch.testing.assert_close(coefficients(12, 5, index="text"), coefficients(12, 6)[:, 1:])
    model = tiny(n=1, index="text")
    first = {k: v for k, v in model.compose().items() if k.startswith("blocks.0.")}
    assert len(first) == 12  # qkv, proj, fc1, fc2, norm1, norm2: weights and biases
    assert all(bool((v == 0).all()) for v in first.values())  # LayerNorm gains included
    later = model.compose()["blocks.1.norm1.weight"]
    assert bool((later != 0).any())


def test_two_shifted_chebyshev_genes_are_exactly_tleg():
    """N=2, index=shifted: W_l = θ_base + (l/L)·θ_ilayer with l 0-indexed (TLEG's gene_tranfer), any depth."""
    model = tiny(depth=5, n=2)
    base, ilayer = (dict(g.named_parameters()) for g in model.learngenes)
    x = torch.randn(3, 1, 8, 8)
    tleg = timm.create_model("vit_tiny_patch16_224", pretrained=False, depth=5, **TINY)
    state = {k: v for k, v in model.host.state_dict().items()}
    for layer in range(5):
        for name in model.gene_names:
            state[f"blocks.{layer}.{name}"] = base[name] + (layer / 5) * ilayer[name]
    tleg.load_state_dict(state)
    torch.testing.assert_close(model(x), tleg(x), rtol=0, atol=1e-6)


def test_gene_gradient_is_the_coefficient_weighted_sum_of_layer_gradients():
    model = tiny(depth=4, n=3)
    x = torch.randn(2, 1, 8, 8)
    composed = {k: v.detach().requires_grad_() for k, v in model.compose().items()}
    out = torch.func.functional_call(model.host, composed, (x,), strict=False)
    out.square().sum().backward()
    model(x).square().sum().backward()
    a = model.coeff  # [L, N]
    for n, gene in enumerate(model.learngenes):
        want = sum(a[layer, n] * composed[f"blocks.{layer}.attn.qkv.weight"].grad for layer in range(4))
        torch.testing.assert_close(gene.attn.qkv.weight.grad, want, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------------------------------- precision
def test_composition_is_fp32_under_bf16_autocast_and_training_runs():
    """Σ a(l, n)·A_n runs in fp32 with autocast off; the blocks then run under bf16 autocast as usual."""
    assert float(torch.tensor(1.001).bfloat16()) == 1.0  # why: a bf16 sum would erase a 1e-3 gain change
    model = tiny(depth=4, n=3)
    with torch.no_grad():
        model.learngenes[0].norm1.weight.add_(1e-3)  # genes 2..3 (normal init) have zero gains
    reference = model.compose()
    x, y = torch.randn(4, 1, 8, 8), torch.tensor([0, 1, 2, 0])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        composed = model.compose()
        assert {v.dtype for v in composed.values()} == {torch.float32}
        gain = composed["blocks.2.norm1.weight"]  # a(3, ·) = [1, 0.5, −0.5] · [1.001, 0, 0]
        torch.testing.assert_close(gain, torch.full_like(gain, 1.001), rtol=0, atol=0)
        assert bool((gain != 1.0).all())
        for key, value in composed.items():
            assert torch.equal(value, reference[key]), (
                key
            )  # bit-identical to the composition without autocast
        assert model(x).dtype == torch.bfloat16  # the block's matmuls still run in bf16
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    losses = []
    for _ in range(4):
        opt.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = torch.nn.functional.cross_entropy(model(x).float(), y)
        loss.backward()
        grads = [p.grad for p in model.parameters() if p.requires_grad]
        assert all(
            g is not None and g.dtype == torch.float32 and bool(torch.isfinite(g).all()) for g in grads
        )
        assert all(float(g.norm()) > 0 for g in (gene.attn.qkv.weight.grad for gene in model.learngenes))
        opt.step()
        losses.append(float(loss.detach()))
    assert all(math.isfinite(v) for v in losses) and losses[-1] < losses[0], losses
    assert {p.dtype for p in model.parameters()} == {torch.float32}


# ---------------------------------------------------------------------------------------------- recomposition
@pytest.mark.parametrize(("depth", "k"), [(4, 3), (2, 1), (7, 2), (1, 3)])
def test_free_and_const_recompositions_give_identical_outputs(depth, k):
    model = tiny(depth=4, n=3)
    x = torch.randn(3, 1, 8, 8)
    free, const = recompose(model, depth, k, "free"), recompose(model, depth, k, "const")
    assert type(free).__name__ == "VisionTransformer" and len(free.blocks) == depth
    assert isinstance(const, LearngeneViT) and const.num_learngenes == k
    torch.testing.assert_close(free(x), const(x), rtol=0, atol=1e-6)
    if (depth, k) == (4, 3):  # same depth, all genes: the learngene model itself
        torch.testing.assert_close(free(x), model(x), rtol=0, atol=1e-6)
    # trainable parameters: const grows with k, free with depth
    block = sum(p.numel() for p in model.learngenes[0].parameters())
    shared = sum(p.numel() for p in model.host.parameters())
    assert sum(p.numel() for p in const.parameters() if p.requires_grad) == shared + k * block
    assert sum(p.numel() for p in free.parameters()) == shared + depth * block


def test_recomposition_uses_the_target_depth_coefficients():
    model = tiny(depth=4, n=2)
    free = recompose(model, 8, 2, "free")
    base, ilayer = (dict(g.named_parameters()) for g in model.learngenes)
    for layer in (0, 3, 7):
        want = base["mlp.fc1.weight"] + (layer / 8) * ilayer["mlp.fc1.weight"]
        torch.testing.assert_close(free.blocks[layer].mlp.fc1.weight, want)


def test_deit_b_parameter_counts_closed_form():
    d = 768
    block = 12 * d * d + 13 * d  # qkv 3d²+3d, proj d²+d, fc1 4d²+4d, fc2 4d²+d, two LayerNorms 4d
    shared = (
        (3 * 16 * 16 * d + d) + 197 * d + d + 2 * d
    )  # patch embedding, position embedding, cls, final norm
    assert lg_tables.deit_b_params(k=1) == shared + block == 7_832_064  # paper: 7.8M
    assert lg_tables.deit_b_params(k=12) == shared + 12 * block  # paper: 86M
    assert lg_tables.deit_b_params(depth=6) == shared + 6 * block


# ---------------------------------------------------------------------------------------------- phases
def test_ict_phase_trains_only_new_genes(tmp_path):
    phase1 = tiny(depth=4, n=3)
    phase1.set_phase(1, 0)
    ckpt = tmp_path / "phase1.pt"
    torch.save({f"net.{k}": v for k, v in phase1.state_dict().items()}, ckpt)
    phase2 = LearngeneViT(
        "vit_tiny_patch16_224", num_learngenes=3, depth=4, active=2, init_from=str(ckpt), **TINY
    )
    assert phase2.trainable_from == 1  # default: the checkpoint's trained count
    before = {k: v.clone() for k, v in phase2.learngenes[0].state_dict().items()}
    torch.testing.assert_close(phase2.learngenes[0].attn.qkv.weight, phase1.learngenes[0].attn.qkv.weight)
    assert bool((phase2.learngenes[1].attn.qkv.weight == 0).all())  # new gene: zeros, phase starts at phase 1
    x, y = torch.randn(4, 1, 8, 8), torch.tensor([0, 1, 2, 0])
    torch.testing.assert_close(phase2(x), phase1(x), rtol=0, atol=1e-6)
    opt = torch.optim.AdamW([p for p in phase2.parameters() if p.requires_grad], lr=1e-2, weight_decay=0.05)
    for _ in range(3):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(phase2(x), y).backward()
        opt.step()
    for k, v in phase2.learngenes[0].state_dict().items():
        assert torch.equal(v, before[k]), k  # frozen gene bit-identical
    assert not torch.equal(phase2.learngenes[1].attn.qkv.weight, torch.zeros_like(before["attn.qkv.weight"]))
    assert all(not p.requires_grad for p in phase2.learngenes[2].parameters())  # beyond `active`: unused


@pytest.mark.parametrize("after_phase1", [False, True])
def test_shared_parameters_drift_by_default_and_freeze_after_phase1_on_request(tmp_path, after_phase1):
    """Default: embeddings/norm/head train in every phase, so k = 1 of phase 2 is not phase 1's model.
    ``freeze_shared_after_phase1``: they train in phase 1 only, and k = 1 of phase 2 *is* phase 1's model."""
    phase1 = tiny(depth=4, n=3, freeze_shared_after_phase1=after_phase1)
    phase1.set_phase(1, 0)
    assert not phase1.shared_frozen and all(p.requires_grad for p in phase1.host.parameters())
    ckpt = tmp_path / "phase1.pt"
    torch.save({f"net.{k}": v for k, v in phase1.state_dict().items()}, ckpt)
    phase2 = LearngeneViT(
        "vit_tiny_patch16_224",
        num_learngenes=3,
        depth=4,
        active=2,
        init_from=str(ckpt),
        freeze_shared_after_phase1=after_phase1,
        gene_init="normal",
        **TINY,
    )
    assert phase2.trainable_from == 1 and phase2.shared_frozen is after_phase1
    shared = [n for n, _ in phase2.host.named_parameters()]
    assert set(shared) == {
        "cls_token", "pos_embed", "patch_embed.proj.weight", "patch_embed.proj.bias",
        "norm.weight", "norm.bias", "head.weight", "head.bias",
    }  # fmt: skip
    before = {k: v.clone() for k, v in phase2.host.state_dict().items()}
    x, y = torch.randn(4, 1, 8, 8), torch.tensor([0, 1, 2, 0])
    opt = torch.optim.AdamW([p for p in phase2.parameters() if p.requires_grad], lr=1e-2, weight_decay=0.05)
    for _ in range(3):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(phase2(x), y).backward()
        opt.step()
    unchanged = [k for k, v in phase2.host.state_dict().items() if torch.equal(v, before[k])]
    k1 = recompose(phase2, 4, 1, "free")(x).detach()  # the "k = 1 from the final checkpoint" of the heatmap
    if after_phase1:
        assert sorted(unchanged) == sorted(shared)
        torch.testing.assert_close(k1, phase1(x), rtol=0, atol=1e-6)  # exactly the phase-1 model
    else:
        assert unchanged == []  # every shared tensor drifted in phase 2
        assert float((k1 - phase1(x).detach()).abs().max()) > 1e-3
    sct = tiny(depth=4, n=3, freeze_shared_after_phase1=True)  # no frozen genes: a "phase 1", shared train
    assert not sct.shared_frozen and sct.trainable_from == 0
    always = tiny(depth=4, n=3, freeze_shared=True)
    assert always.shared_frozen and not any(p.requires_grad for p in always.host.parameters())


# ---------------------------------------------------------------------------------------------- weight decay
def test_weight_decay_groups_are_deits_and_decay_only_matrices():
    """timm/DeiT rule: no decay on 1-D tensors (biases, LayerNorm) nor on pos_embed / cls_token; found through a
    wrapping module (a LightningModule's ``net.host``); frozen genes and a frozen teacher in no group."""
    wrapper = torch.nn.Module()
    wrapper.net = tiny(depth=4, n=3)
    wrapper.net.set_phase(3, 1)  # ICT: gene 0 frozen
    wrapper.teacher = torch.nn.Linear(4, 4).requires_grad_(False)
    no_decay, decay = weight_decay_groups(wrapper, 0.05)
    assert no_decay["weight_decay"] == 0.0 and decay["weight_decay"] == 0.05
    name = {id(p): n for n, p in wrapper.named_parameters()}
    got_no_decay = {name[id(p)] for p in no_decay["params"]}
    got_decay = {name[id(p)] for p in decay["params"]}
    # per trainable gene: qkv, proj, fc1, fc2 weights decay; their 4 biases + 2 LayerNorms (gain, bias) do not
    genes = {
        f"net.learngenes.{g}.{w}.weight"
        for g in (1, 2)
        for w in ("attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2")
    }
    assert got_decay == genes | {"net.host.patch_embed.proj.weight", "net.host.head.weight"}
    assert len(got_no_decay) == 2 * 8 + 6  # cls, pos, patch bias, final norm gain/bias, head bias
    assert {"net.host.pos_embed", "net.host.cls_token", "net.learngenes.1.norm1.weight"} <= got_no_decay
    # the same sets as timm's own optimizer factory on the LearngeneViT (its no_weight_decay() lists the host's)
    opt = timm.optim.create_optimizer_v2(wrapper.net, "adamw", lr=1e-3, weight_decay=0.05)
    timm_sets = {g["weight_decay"]: {id(p) for p in g["params"]} for g in opt.param_groups}
    assert timm_sets == {0.0: {id(p) for p in no_decay["params"]}, 0.05: {id(p) for p in decay["params"]}}
    # in action: one AdamW step with zero gradients shrinks decayed tensors by (1 − lr·wd), others stay
    opt = torch.optim.AdamW(weight_decay_groups(wrapper, 0.05), lr=0.1)
    before = {n: p.detach().clone() for n, p in wrapper.named_parameters()}
    for p in wrapper.parameters():
        p.grad = torch.zeros_like(p) if p.requires_grad else None
    opt.step()
    for n, p in wrapper.named_parameters():
        factor = 1 - 0.1 * 0.05 if n in got_decay else 1.0
        torch.testing.assert_close(p.detach(), before[n] * factor, rtol=1e-6, atol=0, msg=n)


# ---------------------------------------------------------------------------------------------- export
@pytest.mark.parametrize(("depth", "k"), [(4, 3), (6, 2), (2, 1)])
def test_export_loads_strictly_into_a_plain_timm_vit(depth, k):
    model = tiny(depth=4, n=3)
    x = torch.randn(3, 1, 8, 8)
    state, kwargs = export_timm(model, depth, k)
    assert kwargs == {"model_name": "vit_tiny_patch16_224", **TINY, "depth": depth}
    net = timm.create_model(**kwargs)  # timm alone
    assert net.load_state_dict(state, strict=True).missing_keys == []
    torch.testing.assert_close(net(x), recompose(model, depth, k, "const")(x), rtol=0, atol=1e-6)
    if (depth, k) == (4, 3):
        torch.testing.assert_close(net(x), model(x), rtol=0, atol=1e-6)
    # a const (w/ const) model exports as well: its composed blocks become ordinary layers
    const = recompose(model, depth, k, "const")
    state_c, kwargs_c = export_timm(const)
    assert kwargs_c == kwargs and state_c.keys() == state.keys()
    assert all(torch.equal(state_c[key], state[key]) for key in state)


def _fake_run(run_dir: Path, model: torch.nn.Module, net_cfg: dict) -> Path:
    """A run directory as compresslab-train leaves it (config_resolved.yaml + checkpoints/last.ckpt)."""
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "config_resolved.yaml").write_text(json.dumps({"model": {"net": net_cfg}}))
    state = {f"net.{k}": v for k, v in model.state_dict().items()}
    torch.save({"state_dict": state}, run_dir / "checkpoints" / "last.ckpt")
    return run_dir


def _fake_learngene_run(run_dir: Path, model: LearngeneViT) -> Path:
    net = {"_target_": "compresslab.learngene.LearngeneViT", "model_name": model.config["model_name"]}
    net |= {"num_learngenes": model.num_learngenes, **model.config["vit_kwargs"]}
    return _fake_run(run_dir, model, net)


def test_prefin_loads_the_pretrained_plain_vit_with_a_new_head(tmp_path):
    torch.manual_seed(0)
    vit = timm.create_model("vit_tiny_patch16_224", depth=3, **TINY)
    cfg = {"_target_": "timm.create_model", "model_name": "vit_tiny_patch16_224", "depth": 3, **TINY}
    run = _fake_run(tmp_path / "prefin", vit, cfg)
    net = pretrained_vit(run, depth=3, num_classes=7, drop_path_rate=0.2)
    assert net.num_classes == 7 and net.head.weight.shape == (7, 16)
    torch.testing.assert_close(net.blocks[2].mlp.fc1.weight, vit.blocks[2].mlp.fc1.weight, rtol=0, atol=0)
    assert [float(b.drop_path1.drop_prob) for b in net.blocks[1:]] == pytest.approx([0.1, 0.2])
    same_head = pretrained_vit(run, depth=3, num_classes=3)  # same classes: the pre-trained head is kept
    assert torch.equal(same_head.head.weight, vit.head.weight)
    with pytest.raises(ConfigError, match=r"model.net.depth.*3 blocks.*model.net.depth=3"):
        pretrained_vit(run, depth=4)
    lg_run = _fake_learngene_run(tmp_path / "lg", tiny(depth=3, n=2))
    with pytest.raises(ConfigError, match="plain timm ViT.*LearngeneViT"):
        pretrained_vit(lg_run, depth=3)


def test_recompose_cli_timm_format_writes_a_standard_timm_checkpoint(tmp_path, capsys):
    model = tiny(depth=4, n=3)
    run = _fake_learngene_run(tmp_path / "run", model)
    out = tmp_path / "vit_5L_2LG.pt"
    assert recompose_main([str(run), "--depth", "5", "--k", "2", "--format", "timm", "--out", str(out)]) == 0
    meta = json.loads(out.with_name("vit_5L_2LG.pt.json").read_text())
    assert meta["format"] == "timm" and meta["timm_create_kwargs"]["depth"] == 5
    net = timm.create_model(**meta["timm_create_kwargs"])
    net.load_state_dict(torch.load(out, weights_only=True), strict=True)
    x = torch.randn(2, 1, 8, 8)
    torch.testing.assert_close(net.eval()(x), recompose(model, 5, 2, "free").eval()(x), rtol=0, atol=1e-6)
    assert (
        recompose_main([str(run), "--depth", "5", "--mode", "const", "--format", "timm", "--out", str(out)])
        == 2
    )
    assert "--mode" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- bad input
def test_bad_inputs_name_the_value_and_range(tmp_path):
    model = tiny(depth=4, n=3)
    with pytest.raises(ConfigError, match=r"k.*\[1, 3\]"):
        recompose(model, 4, k=4)
    with pytest.raises(ConfigError, match="depth"):
        recompose(model, 0)
    with pytest.raises(ConfigError, match="basis.*chebyshev"):
        coefficients(12, 4, basis="hermite")
    with pytest.raises(ConfigError, match="active"):
        model.set_phase(5)
    wide = tiny(depth=4, n=3, embed_dim=32)
    with pytest.raises(ConfigError, match=r"different width.*embed_dim"):
        load_learngenes(model, wide.state_dict())
    with pytest.raises(ConfigError, match="init_from"):
        LearngeneViT("vit_tiny_patch16_224", depth=4, init_from=str(tmp_path / "nope.ckpt"), **TINY)


def test_kd_loss_is_zero_for_equal_logits_and_matches_kl():
    s, t = torch.randn(5, 4), torch.randn(5, 4)
    assert float(kd_loss(t, t)) == pytest.approx(0.0, abs=1e-7)
    p_t = t.softmax(-1)
    want = (p_t * (p_t.log() - s.log_softmax(-1))).sum(-1).mean()
    torch.testing.assert_close(kd_loss(s, t), want)
    with pytest.raises(ConfigError, match="temperature"):
        DistillationModule(torch.nn.Linear(2, 2), 2, torch.optim.SGD, temperature=0)


# ---------------------------------------------------------------------------------------------- end to end
# teacher → ICT phases → compresslab-recompose (module and timm formats) → fine-tuning through the real CLI: the README's
# first-hour commands train that chain, and tests/test_readme.py checks it (tests/helpers/learngene.py)


def test_tables_fill_exact_cells_and_name_missing_commands(tmp_path):
    coeff = lg_tables.coefficient_table(tmp_path)
    assert [r[-1] for r in coeff.rows if r[-1] != "–"] == ["yes"] * 5
    ict = lg_tables.ict_table(tmp_path)  # no runs under tmp_path
    assert ict.rows[0][-1] == "missing: `bash scripts/reproduce_learngene.sh`"
    heat = lg_tables.heatmap_table(tmp_path)
    assert heat.figure is None and all(c.startswith("missing") for c in heat.rows[0][1:])
    cost = lg_tables.cost_table(tmp_path)
    assert cost.rows[0][1:] == ["43,200", "86.4×"]


def test_heatmap_png_from_runs(tmp_path):
    for d in lg_tables.HEATMAP_DEPTHS:
        for k in lg_tables.HEATMAP_KS:
            run = tmp_path / f"L{d}k{k}"
            run.mkdir()
            cfg = {
                "paper": {"table": "learngene_heatmap", "scale": "reduced"},
                "model": {"net": {"init": "learngene", "mode": "free", "depth": d, "k": k}},
            }
            acc = 0.5 + 0.05 * d + 0.02 * k
            (run / "metrics.json").write_text(json.dumps({"metrics": {"test/acc": acc}, "config": cfg}))
    table = lg_tables.heatmap_table(tmp_path)
    paths = table.write(tmp_path / "results")
    png = tmp_path / "results" / "learngene_heatmap.png"
    assert png in paths and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert table.rows[-1][-1] == "92.0 ± 0.0 (n=1)"  # L=6, k=6: 0.5 + 0.3 + 0.12
    assert "L=6, k=6" in table.notes[0] and "L=2, k=1" not in table.notes[0]
    assert PROJECT_ROOT.exists() and Path(png).stat().st_size > 1000


@pytest.mark.slow
def test_ict_phase_under_ddp_equals_single_process(tmp_path):
    """2-process DDP (CPU, gloo) of a distilled learngene phase equals one process with the same global batch."""
    # 2 epochs of 4 steps (a debug run: the teacher and its lookup live under <log_dir>/debug). The ancestry task's
    # random maps are drawn from each rank's own RNG stream, so two ranks see other maps than one process would:
    # the equality is checked on the unmapped digits, where the only difference left is the engine's.
    unmapped = [
        "data.dataset.augment=false",
        "data.dataset.train_repeats=1",
        "data.dataset.augment_eval=false",
        "data.dataset.eval_draws=1",
    ]
    common = [
        f"paths.log_dir={tmp_path}", *QUIET_CLI, "trainer.max_epochs=2", "trainer.limit_train_batches=4",
        "data.batch_size=64", *unmapped,
    ]  # fmt: skip
    run_cli("train", "experiment=learngene/reduced_teacher", *common)
    metrics = {}
    for name, trainer in (("single", "default"), ("ddp", "ddp_cpu")):
        out = tmp_path / name
        run_cli(
            "train",
            "experiment=learngene/reduced_ict_phase1",
            "seed=3",
            f"trainer={trainer}",
            f"hydra.run.dir={out}",
            "model.scheduler.warmup_epochs=1",
            *common,
        )
        metrics[name] = json.loads((out / "metrics.json").read_text())["metrics"]
    for key in ("val/loss", "test/loss", "test/acc"):
        assert metrics["ddp"][key] == pytest.approx(metrics["single"][key], abs=1e-4), key


def test_learngene_configs_train_with_deit_weight_decay_groups(tmp_path):
    """model=learngene/* hands the optimiser DeiT's groups: the 1-D parameters, pos_embed and cls_token undecayed."""
    import hydra

    from tests.helpers.compose import compose_cfg

    cfg = compose_cfg(
        "train", ["logger=none", "experiment=learngene/reduced_ict_phase1", "model.teacher=null"], tmp_path
    )
    module = hydra.utils.instantiate(cfg.model)
    optimizer = module.configure_optimizers()
    optimizer = optimizer["optimizer"] if isinstance(optimizer, dict) else optimizer
    names = {id(p): n for n, p in module.named_parameters()}
    decay = {names[id(p)] for g in optimizer.param_groups if g["weight_decay"] > 0 for p in g["params"]}
    no_decay = {names[id(p)] for g in optimizer.param_groups if g["weight_decay"] == 0 for p in g["params"]}
    assert {g["weight_decay"] for g in optimizer.param_groups} == {0.0, cfg.model.optimizer.weight_decay}
    assert any("pos_embed" in n for n in no_decay) and any("cls_token" in n for n in no_decay)
    assert all(module.get_parameter(n).ndim > 1 for n in decay)
    trainable = {n for n, p in module.named_parameters() if p.requires_grad}
    assert decay | no_decay == trainable and not decay & no_decay


def test_sct_and_prefin_get_the_ict_chains_total_budget(tmp_path):
    """ICT ≥ SCT and learngene > Pre-Fin are claims at equal budget: SCT and the Pre-Fin pre-training train for the
    ICT chain's total epochs, on the same data with the same batch."""
    chain = [
        compose_cfg("train", [f"experiment=learngene/reduced_ict_phase{p}", "seed=1"], tmp_path / f"p{p}")
        for p in (1, 2, 3, 4)
    ]
    assert [c.trainer.max_epochs for c in chain] == [30, 15, 15, 15]
    for name in ("reduced_sct", "reduced_prefin_pretrain"):
        arm = compose_cfg("train", [f"experiment=learngene/{name}", "seed=1"], tmp_path / name)
        assert arm.trainer.max_epochs == sum(c.trainer.max_epochs for c in chain) == 75, name
        assert arm.data == chain[0].data, name
        assert arm.trainer.gradient_clip_val == chain[0].trainer.gradient_clip_val, name
