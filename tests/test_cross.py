"""Cross-method experiments (conf/experiment/cross/*): the learngene chain, SRNet masks on a timm ViT, the RNNPool
student's counts, run lookup by table cell, the cross_methods table and (slow) the smoke script."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import timm
import torch
from omegaconf import OmegaConf

from compresslab.hpmkd.chain import NetFamily, ProgressiveDistillationChain, geometric_capacities
from compresslab.learngene import LearngeneViT, recompose
from compresslab.measure.report import count_params
from compresslab.models import find_run_dir
from compresslab.srnet.masks import masked, masks_of, pruned_count, realised_sparsity, target_linears
from compresslab.tables import TABLES
from compresslab.tables import cross as cross_tables
from compresslab.utils.errors import ConfigError
from compresslab.utils.hydra_app import PROJECT_ROOT
from tests.helpers.compose import compose_cfg

VIT = dict(img_size=8, patch_size=4, in_chans=1, embed_dim=16, num_heads=2)


def learngene_run(tmp_path: Path, genes: int = 6) -> Path:
    """A finished learngene run directory (config_resolved.yaml + checkpoints/last.ckpt) of a tiny LearngeneViT."""
    net_cfg = {
        "_target_": "compresslab.learngene.LearngeneViT",
        "model_name": "vit_tiny_patch16_224",
        "num_learngenes": genes,
        "depth": 6,
        "num_classes": 3,
        "gene_init": "normal",
        **VIT,
    }
    run = tmp_path / "ict"
    (run / "checkpoints").mkdir(parents=True)
    OmegaConf.save(OmegaConf.create({"model": {"net": net_cfg}}), run / "config_resolved.yaml")
    torch.manual_seed(0)
    net = LearngeneViT(**{k: v for k, v in net_cfg.items() if k != "_target_"})
    torch.save(
        {"state_dict": {f"net.{k}": v for k, v in net.state_dict().items()}}, run / "checkpoints/last.ckpt"
    )
    return run


def plain_vit_params(depth: int, num_classes: int = 5) -> int:
    with torch.device("meta"):
        return count_params(
            timm.create_model("vit_tiny_patch16_224", depth=depth, num_classes=num_classes, **VIT)
        )["total"]


# ------------------------------------------------------------------------------------------- learngene chain
def test_learngene_chain_depths_and_params_follow_the_capacity_rule(tmp_path):
    run = learngene_run(tmp_path)
    spec = {
        "_target_": "compresslab.learngene.recomposed",
        "run_dir": str(run),
        "depth": 2,
        "k": 6,
        "num_classes": 5,
    }
    family = NetFamily(spec, width_key=None, depth_key="depth", count_on_meta=False)
    teacher, student = family.params(1.0, 6), family.params()
    # a recomposition (mode=free) is the plain timm ViT of that depth: p(L) = shared + L·block
    assert [family.params(1.0, d) for d in range(2, 7)] == [plain_vit_params(d) for d in range(2, 7)]
    assert (teacher, student) == (plain_vit_params(6), plain_vit_params(2))

    plan = ProgressiveDistillationChain(steps=3, epsilon=0.01, mode="depth", depths=[3, 4, 5]).plan(
        family, teacher
    )
    caps = geometric_capacities(teacher, student, 3)  # |θ_i| = |θ_T|·r^{i/3}
    nearest = [min((3, 4, 5), key=lambda d: abs(math.log(plain_vit_params(d) / c))) for c in caps[1:-1]]
    assert nearest == [4, 3]  # 6 → 4 → 3 → 2
    assert [s.depth for s in plan] == nearest
    assert [s.params for s in plan] == [plain_vit_params(4), plain_vit_params(3)]
    assert [s.target_params for s in plan] == pytest.approx(caps[1:-1], rel=1e-12)
    assert all(s.width == 1.0 for s in plan)

    # the members are learngene recompositions (Eq. 9 weights), not random initialisations
    member = family.build(1.0, 4)
    source = torch.load(run / "checkpoints/last.ckpt", weights_only=True)["state_dict"]
    lg = LearngeneViT(
        "vit_tiny_patch16_224", num_learngenes=6, depth=6, num_classes=3, gene_init="normal", **VIT
    )
    lg.load_state_dict({k[4:]: v for k, v in source.items()})
    want = recompose(lg, 4, 6, "free")
    for i in range(4):
        torch.testing.assert_close(member.blocks[i].mlp.fc1.weight, want.blocks[i].mlp.fc1.weight)


def test_depth_only_family_refuses_width_modes(tmp_path):
    spec = {
        "_target_": "compresslab.learngene.recomposed",
        "run_dir": str(learngene_run(tmp_path)),
        "depth": 2,
    }
    family = NetFamily(spec, width_key=None, count_on_meta=False)
    with pytest.raises(ConfigError, match="model.chain.mode"):
        ProgressiveDistillationChain(steps=3, mode="width").plan(family, 10**6)
    with pytest.raises(ConfigError, match="width_key/depth_key"):
        NetFamily(spec, width_key=None, depth_key=None)


# ------------------------------------------------------------------------------------------- SRNet on a ViT
def test_masks_on_a_timm_vit_realise_exactly_the_target_sparsity_per_matrix():
    torch.manual_seed(0)
    vit = timm.create_model("vit_tiny_patch16_224", depth=3, num_classes=5, **VIT)
    names = list(target_linears(vit, classifier=False))
    assert names == [
        f"blocks.{i}.{m}" for i in range(3) for m in ("attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2")
    ]
    net = masked(vit, sparsity=0.3, init="soft", classifier=False, train_classifier=True)
    masks = masks_of(net)
    assert sorted(masks) == sorted(names)
    trainable = {n for n, p in net.named_parameters() if p.requires_grad}
    assert trainable == {f"{n}.parametrizations.weight.0.scores" for n in names} | {
        "head.weight",
        "head.bias",
    }

    def check() -> None:
        for mask in masks.values():
            keep = mask.keep()  # [d_out, d_in]
            assert (
                keep.numel() - int(keep.sum())
                == pruned_count(keep.numel(), 0.3)
                == math.floor(0.3 * keep.numel())
            )
        assert set(realised_sparsity(net).values()) == {
            pruned_count(m.scores.numel(), 0.3) / m.scores.numel() for m in masks.values()
        }

    check()
    opt = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=0.05, weight_decay=0.0)
    x, y = torch.randn(4, 1, 8, 8), torch.tensor([0, 1, 2, 3])  # [B, C, H, W], [B]
    for _ in range(2):  # the top-k follows the moved scores and stays exact
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()  # logits [B, 5]
        opt.step()
        check()
    # the effective weight is m ⊙ W of the frozen W
    qkv = net.blocks[0].attn.qkv
    torch.testing.assert_close(
        qkv.weight, qkv.parametrizations.weight.original * masks["blocks.0.attn.qkv"].keep()
    )


def test_bert_targets_are_unchanged_and_unknown_families_are_named():
    with pytest.raises(ConfigError, match="BERT/RoBERTa"):
        target_linears(torch.nn.Sequential(torch.nn.Linear(2, 2)))
    with pytest.raises(ConfigError, match="model.target_family"):
        target_linears(torch.nn.Sequential(torch.nn.Linear(2, 2)), family="resnet")


# ------------------------------------------------------------------------------------------- RNNPool student
def test_rnnpool_student_counts_vs_its_base_teacher():
    base, student = cross_tables._counts("rnnpool", "none"), cross_tables._counts("rnnpool", "rnnpool")
    assert (base[0], student[0]) == (590_122, 607_806)  # RNNPool adds 17,684 parameters ...
    assert (base[2], student[2]) == ("54.0 KiB", "10.1 KiB")  # ... and cuts peak RAM 13,824 → 2,592 values
    # at 48² the RNNPool block (each distinct RNN1 sequence once) costs slightly fewer MAdds than the bottlenecks
    assert (base[1], student[1]) == (4_728_608, 4_671_680)


# ------------------------------------------------------------------------------------------- run lookup, table
def _fake_run(
    root: Path, name: str, table: str, row: str, seed: int, acc: float, checkpoint: bool = True
) -> Path:
    run = root / name
    (run / "checkpoints").mkdir(parents=True)
    cfg = {"seed": seed, "paper": {"table": table, "row": row, "scale": "reduced"}}
    (run / "metrics.json").write_text(json.dumps({"metrics": {"test/acc": acc}, "config": cfg}))
    if checkpoint:
        (run / "checkpoints" / "last.ckpt").write_bytes(b"")
    return run


def test_find_run_dir_by_table_row_and_seed(tmp_path):
    want = _fake_run(tmp_path, "multiruns/t0/2", "rnnpool_table2", "none+last_layer_rnnpool=False", 2, 0.7)
    _fake_run(tmp_path, "multiruns/t0/0", "rnnpool_table2", "none+last_layer_rnnpool=False", 1, 0.7)
    assert find_run_dir(tmp_path, "rnnpool_table2", "none+last_layer_rnnpool=False", 2) == want
    with pytest.raises(ConfigError, match=r"none\+last_layer_rnnpool=False"):
        find_run_dir(tmp_path, "rnnpool_table2", "none+last_layer_rnnpool=False", 3)
    # a fast-dev-run of the row (no checkpoint) is no teacher, even when it is the newest
    _fake_run(
        tmp_path,
        "multiruns/t1/0",
        "rnnpool_table2",
        "none+last_layer_rnnpool=False",
        2,
        0.1,
        checkpoint=False,
    )
    assert find_run_dir(tmp_path, "rnnpool_table2", "none+last_layer_rnnpool=False", 2) == want
    _fake_run(
        tmp_path,
        "multiruns/t1/1",
        "rnnpool_table2",
        "none+last_layer_rnnpool=False",
        4,
        0.1,
        checkpoint=False,
    )
    with pytest.raises(ConfigError, match="fast_dev_run writes none"):
        find_run_dir(tmp_path, "rnnpool_table2", "none+last_layer_rnnpool=False", 4)


def test_cross_table_cells(tmp_path):
    assert "cross_methods" in TABLES
    for seed, acc in ((1, 0.5), (2, 0.7)):
        _fake_run(tmp_path, f"cross/s{seed}", "cross_methods", "learngene_srnet/s0.5", seed, acc)
    table = cross_tables.cross_table(tmp_path)
    rows = {(r[0], r[2]): r for r in table.rows}
    srnet = rows[("learngene_srnet", "CE mask training (scores + head), 8 ep")]
    assert srnet[-1] == "60.0 ± 14.1 (n=2)"
    kept = cross_tables.masked_nonzero(cross_tables.vit(6), 0.5)
    dense = count_params(cross_tables.vit(6))["total"]
    masked_w = sum(
        lin.weight.numel() for lin in target_linears(cross_tables.vit(6), classifier=False).values()
    )
    assert kept == dense - masked_w // 2  # every block matrix has an even size: exactly half pruned
    assert srnet[3] == f"{kept / 1e3:.1f}K non-zero of {dense / 1e3:.1f}K"
    hpmkd = rows[("rnnpool_hpmkd", "HPM-KD (PDC off) from the base, Adam, 30 ep")]
    assert (
        hpmkd[-1]
        == "missing: `compresslab-train -m experiment=cross/rnnpool_hpmkd model.method=hpmkd seed=1,2,3`"
    )
    assert len(table.rows) == 10
    # the masked ViT against its dense reference at the same 8 epochs (experiment=cross/learngene_ce L=6, not the
    # heatmap's 50-epoch L=6 run, which is only the KD teacher): per-seed ratio vs 95 %
    for seed, acc in ((1, 0.52), (2, 0.71), (3, 0.80)):
        _fake_run(tmp_path, f"ce/s{seed}", "cross_methods", "learngene_ce/L6", seed, acc)
        _fake_run(tmp_path, f"heat/s{seed}", "learngene_heatmap", "learngene/free/L6/k6", seed, 0.99)
    _fake_run(tmp_path, "cross/s3", "cross_methods", "learngene_srnet/s0.5", 3, 0.78)
    verdicts = cross_tables.cross_table(tmp_path).verdicts
    masks = next(v for v in verdicts if v.claim.text.startswith("learngene_srnet"))
    # per-seed ratios 0.5/0.52, 0.7/0.71, 0.78/0.80 = 96.15, 98.59, 97.50 %: mean 97.41, sd 1.22, n 3
    assert masks.n == 3 and masks.mean == pytest.approx(97.415, abs=1e-3)
    assert masks.low == pytest.approx(94.38, abs=0.01) and masks.label == "inconclusive (n=3)"
    hpmkd_claims = [v for v in verdicts if v.claim.text.startswith("rnnpool_hpmkd")]
    assert len(hpmkd_claims) == 2 and all(v.label == "inconclusive (n=0; no runs)" for v in hpmkd_claims)


@pytest.mark.parametrize("name", ["rnnpool_hpmkd", "learngene_pdc", "learngene_srnet"])
def test_cross_configs_compose(tmp_path, name):
    cfg = compose_cfg("train", [f"experiment=cross/{name}", "logger=csv"], tmp_path / "run")
    assert (cfg.paper.name, cfg.paper.table, cfg.paper.scale) == ("cross", "cross_methods", "reduced")
    assert cfg.paper.row.startswith(name)
    header = (PROJECT_ROOT / f"conf/experiment/cross/{name}.yaml").read_text().splitlines()[1]
    assert header.startswith(f"# Cross experiment {name}:")
