"""SRNet runs end to end on a tiny BERT (slow): threshold-mode masks are saved at the exact scheduled sparsity and
paradigm b re-trains from them; a cubic schedule's default reaches the final sparsity inside the selection window,
and a run with no eligible evaluation fails loudly; ``compresslab-srnet export`` writes a transformers directory
that reproduces the masked model's logits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from compresslab.srnet.masks import BinaryMask, masks_of, pruned_count
from compresslab.utils.errors import ConfigError
from tests.helpers.srnet import pruned, run_train, tiny_overrides

pytestmark = pytest.mark.slow  # tiny Lightning runs, ~10 s each


@pytest.fixture(scope="module")
def runs(tiny_dir, tmp_path_factory) -> dict[str, Path]:
    """A CE fine-tuning of the tiny BERT and a threshold-mode PoE mask training on it (s = 0.5, soft init, a large
    lr so that the realised sparsity drifts between the φ resets)."""
    root = tmp_path_factory.mktemp("srnet_runs")
    common = tiny_overrides(tiny_dir, root / "logs")
    ft, mask = root / "ft", root / "mask_threshold"
    run_train(["experiment=srnet/reduced_finetune", *common], ft)
    run_train(
        [
            "experiment=srnet/reduced_mask",
            *common,
            f"model.net.init_from={ft}",
            "model.control=threshold",
            "model.init=soft",
            "model.sparsity=0.5",
            "model.select_start=0",
            "model.optimizer.lr=0.02",
        ],
        mask,
    )
    return {"common": common, "ft": ft, "mask": mask, "root": root}


def _validation_sparsities(run: Path) -> list[float]:
    import csv

    rows = []
    for f in run.rglob("metrics.csv"):
        with f.open() as fh:
            rows += [float(r["val/sparsity"]) for r in csv.DictReader(fh) if r.get("val/sparsity")]
    return rows


def test_threshold_mode_evaluates_and_saves_the_exact_scheduled_sparsity(runs, tiny_dir):
    run = runs["mask"]
    best = torch.load(run / "best_mask.pt", weights_only=True)
    assert best and all(pruned(k) == pruned_count(k.numel(), 0.5) for k in best.values())
    per_eval = _validation_sparsities(run)
    assert len(per_eval) >= 4  # every validation of 2 epochs × 2, and each at the target (per-matrix floors)
    expected = sum(pruned_count(k.numel(), 0.5) for k in best.values()) / sum(
        k.numel() for k in best.values()
    )
    assert per_eval == pytest.approx([expected] * len(per_eval), abs=1e-6)
    metrics = json.loads((run / "metrics.json").read_text())["metrics"]
    assert float(metrics["test/sparsity"]) == pytest.approx(expected, abs=1e-6)

    # between resets φ is fixed and the mask drifts (the paper's rule): training moved it away from the target
    from compresslab.srnet.export import load_run_module

    module, _, _ = load_run_module(run)
    masks = [m for m in masks_of(module.hf).values() if isinstance(m, BinaryMask)]
    assert all(m.control == "threshold" for m in masks)
    with torch.no_grad():
        for m in masks:
            m.scores.add_(0.05 * torch.randn_like(m.scores))
    assert any(pruned(m.keep()) != m.n_pruned for m in masks)


def test_paradigm_b_retrains_the_threshold_mode_mask(runs, tmp_path):
    out = tmp_path / "retrain"
    metrics, objs = run_train(
        [
            "experiment=srnet/reduced_retrain",
            *runs["common"],
            f"model.mask_file={runs['mask'] / 'best_mask.pt'}",
            "model.mask_sparsity=0.5",
            "trainer.max_epochs=1",
        ],
        out,
    )
    saved = torch.load(runs["mask"] / "best_mask.pt", weights_only=True)
    applied = {f"{n}.weight": m.mask for n, m in masks_of(objs["model"].hf).items()}
    assert "classifier.weight" not in applied and set(applied) < set(saved)
    assert all(torch.equal(applied[n], saved[n]) for n in applied)
    assert 0.49 < float(metrics["test/sparsity"]) <= 0.5


def test_cubic_default_reaches_the_final_sparsity_inside_the_selection_window(runs, tmp_path):
    """12 steps, evaluations every 5 steps (5 and 10), select_start 0.7 (step ≥ 8.4): with the default schedule_end
    (0.7) step 10 is at the final sparsity and chosen; with T = t_max no evaluation is, and the run says so."""
    cubic = [
        "experiment=srnet/reduced_mask",
        *runs["common"],
        f"model.net.init_from={runs['ft']}",
        "model.schedule=cubic",
        "model.init=soft",
        "model.initial_sparsity=0.2",
        "model.sparsity=0.6",
        "trainer.check_val_every_n_epoch=null",
        "trainer.val_check_interval=5",
    ]
    metrics, _ = run_train(cubic, tmp_path / "default")
    assert float(metrics["val/select"]) > 0
    best = torch.load(tmp_path / "default" / "best_mask.pt", weights_only=True)
    assert all(pruned(k) == pruned_count(k.numel(), 0.6) for k in best.values())
    with pytest.raises(ConfigError, match=r"model\.schedule_end.*1\.0.*steps \[5, 10\].*best_mask\.pt.*Fix:"):
        run_train([*cubic, "model.schedule_end=1.0"], tmp_path / "late")
    assert not (tmp_path / "late" / "best_mask.pt").exists()


def test_export_writes_a_transformers_directory_with_the_masked_model(runs, tmp_path):
    from transformers import AutoModelForSequenceClassification

    from compresslab.srnet.cli import main
    from compresslab.srnet.export import load_run_module

    out = tmp_path / "exported"
    assert main(["export", str(runs["mask"]), "--out", str(out)]) == 0
    module, _, _ = load_run_module(runs["mask"])
    g = torch.Generator().manual_seed(0)
    x = torch.randint(1000, 5000, (4, 12), generator=g)
    with torch.no_grad():
        want = module.net(x, torch.ones_like(x), torch.zeros_like(x))
        got = AutoModelForSequenceClassification.from_pretrained(out).eval()(input_ids=x).logits
    torch.testing.assert_close(got, want)
    report = json.loads((out / "sparsity.json").read_text())
    best = torch.load(runs["mask"] / "best_mask.pt", weights_only=True)
    assert set(report["masked_weights"]) == set(best) and report["target_sparsity"] == 0.5
    exported = AutoModelForSequenceClassification.from_pretrained(out).state_dict()
    for name, keep in best.items():
        assert report["masked_weights"][name] == pytest.approx(pruned(keep) / keep.numel())
        assert not exported[name][~keep].any()  # pruned weights are zeros
    assert not any("parametrizations" in k for k in exported)
    assert (out / "tokenizer_config.json").is_file() and report["tokenizer"]
    with pytest.raises(ConfigError, match="run_dir.*dense model"):
        from compresslab.srnet.export import export_run

        export_run(runs["ft"], tmp_path / "dense")


def test_test_splits_report_accuracy_per_label_and_overlap_cell(runs):
    """The per-cell accuracies are the split's accuracy broken down: HANS-like (32 pairs: 16 entailment, 16
    neutral, all high overlap) and anti-aligned (300: 100 per label) recombine to the split's acc."""
    metrics = json.loads((runs["ft"] / "metrics.json").read_text())["metrics"]
    hans = {
        k.rsplit("acc_cell_", 1)[1]: float(v) for k, v in metrics.items() if "test_hans_like/acc_cell_" in k
    }
    assert set(hans) == {"entailment_high", "neutral_high"}
    recombined = (16 * hans["entailment_high"] + 16 * hans["neutral_high"]) / 32
    assert recombined == pytest.approx(float(metrics["test_hans_like/acc"]), abs=1e-6)
    anti = {
        k.rsplit("acc_cell_", 1)[1]: float(v)
        for k, v in metrics.items()
        if "test_anti_aligned/acc_cell_" in k
    }
    assert set(anti) == {"contradiction_high", "entailment_low", "neutral_high"}
    assert sum(anti.values()) / 3 == pytest.approx(float(metrics["test_anti_aligned/acc"]), abs=1e-6)
    assert all(0.0 <= v <= 1.0 for v in [*hans.values(), *anti.values()])
