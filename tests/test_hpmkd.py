"""HPM-KD: AWMT, PDC, baselines' losses, the module's checks, tables; end to end on every experiment config."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import TensorDataset

from compresslab import paper_values
from compresslab.hpmkd.baselines import dml_losses, hint_loss, hinton_loss, takd_assistant_params
from compresslab.hpmkd.chain import (
    ChainStage,
    NetFamily,
    ProgressiveDistillationChain,
    cached_stage,
    geometric_capacities,
)
from compresslab.hpmkd.engine import (
    IndexedDataset,
    Recipe,
    batched_outputs,
    capture_penultimate,
    dataset_identity,
    evaluate,
    fit_distill,
    is_deterministic,
    soft_kl,
)
from compresslab.hpmkd.memory import SharedOptimizationMemory
from compresslab.hpmkd.module import HPMKDModule
from compresslab.hpmkd.multi_teacher import (
    AttentionWeightedMultiTeacher,
    attention_entropy,
    attention_regulariser,
    mix_teachers,
)
from compresslab.measure.report import num_params as count_params
from compresslab.nets.cifar import build_net
from compresslab.tables import hpmkd as hp_tables
from compresslab.utils.errors import ConfigError

MLP_SPEC = {
    "_target_": "compresslab.nets.cifar.build_net",
    "arch": "mlp",
    "input_shape": [30],
    "num_classes": 2,
    "hidden": [128, 128],
}


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models: one intra-op thread (two threads spin against each other on a busy 2-core machine)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _adam(params, lr: float = 1e-3):  # noqa: ANN001
    return torch.optim.Adam(params, lr=lr)


# ----------------------------------------------------------------------------------------------- AWMT
def test_awmt_weights_sum_to_one_per_sample_and_respect_the_mask():
    torch.manual_seed(0)
    awmt = AttentionWeightedMultiTeacher([3, 32, 32], num_teachers=4, num_classes=10, pool=8)
    nn.init.normal_(awmt.mlp2[-1].weight, std=0.5)  # leave the zero-initialised start (equal weights) behind
    awmt.eval()
    x = torch.randn(16, 3, 32, 32)
    w = awmt(x)  # [B, M]
    assert w.shape == (16, 4)
    torch.testing.assert_close(w.sum(1), torch.ones(16))
    assert (w > 0).all() and w.std(0).max() > 1e-3  # per-sample weights, not one vector for the batch
    mask = torch.tensor([False, True, True, True])
    wm = awmt(x, mask=mask)
    assert (wm[:, 0] == 0).all()
    torch.testing.assert_close(wm.sum(1), torch.ones(16))
    # the draft's sizes: hidden 128, input pooled to 3·8·8, M·16 embedding inputs
    assert awmt.mlp1[0].in_features == 3 * 8 * 8 + 4 * 16 and awmt.mlp1[0].out_features == 128
    assert awmt.mlp1[2].p == 0.2


def test_awmt_starts_from_equal_weights_and_mixes_distributions():
    awmt = AttentionWeightedMultiTeacher([5], num_teachers=3).eval()
    w = awmt(torch.randn(4, 5))
    torch.testing.assert_close(w, torch.full((4, 3), 1 / 3))
    z = torch.randn(3, 4, 6)  # [M, B, C]
    p = mix_teachers(w, z, temperature=2.0)
    torch.testing.assert_close(p, F.softmax(z / 2.0, -1).mean(0))
    torch.testing.assert_close(p.sum(-1), torch.ones(4))
    # R_attn = −mean H: −log 3 for uniform weights, 0 for one-hot
    torch.testing.assert_close(attention_regulariser(w), torch.tensor(-math.log(3)))
    one_hot = torch.tensor([[1.0, 0.0, 0.0]])
    assert float(attention_entropy(one_hot)) == 0.0


# ------------------------------------------------------------------------------------------------ PDC
def test_pdc_capacities_follow_the_geometric_rule():
    caps = geometric_capacities(1_000_000, 10_000, 2)
    assert caps == pytest.approx([1_000_000, 100_000, 10_000])
    caps = geometric_capacities(271_362, 20_738, 3)
    ratios = [b / a for a, b in zip(caps, caps[1:])]
    assert ratios == pytest.approx([(20_738 / 271_362) ** (1 / 3)] * 3)
    family = NetFamily(MLP_SPEC)
    plan = ProgressiveDistillationChain(steps=3).plan(family, 271_362)
    assert [s.index for s in plan] == [1, 2]
    for stage, target in zip(plan, caps[1:-1]):
        assert stage.target_params == pytest.approx(target)
        assert abs(stage.params / target - 1) < 0.01  # the solved width hits the count within 1 %
        assert stage.params == count_params(family.build(stage.width))
    assert plan[0].params > plan[1].params > count_params(family.build())


def test_pdc_depth_mode_and_list_widths():
    resnet = NetFamily(
        {**MLP_SPEC, "arch": "resnet", "input_shape": [3, 32, 32], "num_classes": 10, "depth": 20}
    )
    plan = ProgressiveDistillationChain(3, mode="depth", depths=[8, 14, 20, 32, 44, 56]).plan(resnet, 853_018)
    assert [s.depth for s in plan] == [44, 32] and all(s.width == 1.0 for s in plan)
    mlp = NetFamily(
        {"_target_": "compresslab.nets.small.MLP", "in_features": 4, "num_classes": 3, "hidden": [8, 4]},
        "hidden",
    )
    assert mlp.kwargs(2.0)["hidden"] == [16, 8]
    with pytest.raises(ConfigError, match="model.family.spec"):
        NetFamily(nn.Linear(2, 2))  # type: ignore[arg-type]


def test_chain_stops_when_the_relative_gain_falls_below_epsilon():
    teacher = nn.Linear(2, 2)
    plan = [ChainStage(i, 1.0, 1, 1.0, None, f"a{i}") for i in (1, 2, 3)]
    # probe accuracies: teacher 0.80, f1 0.85 (+6.25 %), f2 0.855 (+0.59 % < 1 %) → stop; f3 never trained
    probes = iter([0.80, 0.85, 0.855, 0.99])
    trained = []

    def train(stage, parent):  # noqa: ANN001, ANN202
        trained.append((stage.index, parent))
        return nn.Linear(2, 2)

    out = ProgressiveDistillationChain(4, epsilon=0.01).run(plan, teacher, train, lambda m: next(probes))
    assert [i for i, _ in trained] == [1, 2] and trained[0][1] is teacher and trained[1][1] is out.models[0]
    assert out.scores == [0.80, 0.85, 0.855] and out.best == 2 and "step 2" in out.reason
    assert out.gains == pytest.approx([0.0625, 0.005 / 0.85])
    # a step that makes the probe worse is dropped: the student distils from the previous model
    probes = iter([0.80, 0.85, 0.84])
    out = ProgressiveDistillationChain(4, epsilon=0.01).run(plan, teacher, train, lambda m: next(probes))
    assert out.best == 1 and out.last_model(teacher) is out.models[0]
    # the first step already useless → the teacher itself
    probes = iter([0.80, 0.79])
    out = ProgressiveDistillationChain(4, epsilon=0.01).run(plan, teacher, train, lambda m: next(probes))
    assert out.best == 0 and out.last_model(teacher) is teacher
    # epsilon=None (TAKD): every planned step, no probes
    out = ProgressiveDistillationChain(4, epsilon=None).run(plan, teacher, train)
    assert out.steps_trained == 3 and out.scores == [] and out.best == 3


def test_chain_models_are_cached_in_som_by_architecture_and_size(tmp_path):
    som = SharedOptimizationMemory(tmp_path / "som")
    family = NetFamily({**MLP_SPEC, "input_shape": [4], "num_classes": 3, "hidden": [8]})
    stage = ChainStage(1, 100.0, count_params(family.build(2.0)), 2.0, None, family.arch(2.0))
    calls = []

    def train(model, parent):  # noqa: ANN001, ANN202
        calls.append(1)
        with torch.no_grad():
            for p in model.parameters():
                p.add_(1.0)
        return model

    parent = nn.Linear(4, 3)
    m1, hit1 = cached_stage(family, stage, parent, train, som, {"d": 1}, {"lr": 1e-3})
    m2, hit2 = cached_stage(family, stage, parent, train, som, {"d": 1}, {"lr": 1e-3})
    assert (hit1, hit2) == (False, True) and len(calls) == 1
    assert all(torch.equal(a, b) for a, b in zip(m1.state_dict().values(), m2.state_dict().values()))
    _, hit3 = cached_stage(family, stage, parent, train, som, {"d": 2}, {"lr": 1e-3})  # other data: retrain
    assert not hit3 and len(calls) == 2
    assert len(som.cache_entries("model")) == 2


# ------------------------------------------------------------------------------------------- baselines
def test_hinton_kd_against_hand_computed_values():
    s = torch.tensor([[0.0, 0.0]])
    t = torch.tensor([[math.log(3.0), 0.0]])  # softmax → [0.75, 0.25]
    y = torch.tensor([0])
    kl = 0.75 * math.log(0.75 / 0.5) + 0.25 * math.log(0.25 / 0.5)
    ce = math.log(2.0)
    assert float(hinton_loss(s, t, y, temperature=1.0, alpha=0.5)) == pytest.approx(
        0.5 * kl + 0.5 * ce, abs=1e-6
    )
    # T = 2: teacher softmax(ln3/2, 0) = [√3, 1]/(√3 + 1); KL × T² = 4
    p = math.sqrt(3) / (math.sqrt(3) + 1)
    kl2 = p * math.log(p / 0.5) + (1 - p) * math.log((1 - p) / 0.5)
    assert float(hinton_loss(s, t, y, temperature=2.0, alpha=1.0)) == pytest.approx(4 * kl2, abs=1e-6)
    assert float(hinton_loss(s, t, y, 2.0, 1.0, t_squared=False)) == pytest.approx(kl2, abs=1e-6)
    assert float(soft_kl(t, F.softmax(t, -1), 1.0)) == pytest.approx(0.0, abs=1e-7)


def test_fitnets_dml_takd_against_hand_computed_values():
    r = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    f = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    assert float(hint_loss(r, f)) == pytest.approx(0.5 * (5 + 25) / 2)
    a = torch.tensor([[0.0, 0.0]])
    b = torch.tensor([[math.log(3.0), 0.0]])
    y = torch.tensor([1])
    la, lb = dml_losses(a, b, y)
    kl_b_a = 0.75 * math.log(0.75 / 0.5) + 0.25 * math.log(0.25 / 0.5)  # KL(p_b ‖ p_a)
    kl_a_b = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)  # KL(p_a ‖ p_b)
    assert float(la) == pytest.approx(math.log(2) + kl_b_a, abs=1e-6)
    assert float(lb) == pytest.approx(-math.log(0.25) + kl_a_b, abs=1e-6)
    a.requires_grad_(True)
    b.requires_grad_(True)
    la, _ = dml_losses(a, b, y)
    la.backward()
    assert b.grad is None  # the peer's target is detached
    assert takd_assistant_params(1_000_000, 10_000) == pytest.approx(100_000)


# -------------------------------------------------------------------------------------------- engine
def test_batched_outputs_penultimate_and_index_wrapper():
    torch.manual_seed(0)
    net = build_net("mlp", [5], 3, hidden=[7]).eval()
    ds = TensorDataset(torch.randn(11, 5), torch.randint(0, 3, (11,)))
    logits, feats = batched_outputs(net, ds, batch_size=4, features=True)
    torch.testing.assert_close(logits, net(ds.tensors[0]))
    assert feats.shape == (11, 7)
    with capture_penultimate(net) as store:
        net(ds.tensors[0][:2])
    torch.testing.assert_close(store[0], feats[:2])
    x, y, i = IndexedDataset(ds)[4]
    assert i == 4 and torch.equal(x, ds.tensors[0][4])
    assert is_deterministic(ds)

    class Noisy(TensorDataset):
        def __getitem__(self, i):  # noqa: ANN001, ANN204
            x, y = super().__getitem__(i)
            return x + torch.randn_like(x), y

    assert not is_deterministic(Noisy(*ds.tensors))
    assert dataset_identity(ds, "train") == dataset_identity(IndexedDataset(ds), "train")


def test_fit_distill_follows_the_teacher_with_alpha_one():
    torch.manual_seed(0)
    x = torch.randn(64, 4)
    teacher_logits = torch.stack([x[:, 0] * 4, -x[:, 0] * 4], 1)
    y = torch.zeros(64, dtype=torch.long)  # labels say "class 0" everywhere; α = 1 ignores them
    ds = TensorDataset(x, y)
    student = build_net("mlp", [4], 2, hidden=[16])
    recipe = Recipe(epochs=15, batch_size=32, lr=3e-2, temperature=1.0, alpha=1.0, seed=0)
    fit_distill(student, ds, recipe, _adam, teacher_logits=teacher_logits)
    agree = (student(x).argmax(1) == teacher_logits.argmax(1)).float().mean()
    assert float(agree) > 0.9
    assert evaluate(student, TensorDataset(x, teacher_logits.argmax(1))) == pytest.approx(float(agree))


def test_build_net_parameter_counts_match_the_papers():
    with torch.device("meta"):
        r20 = count_params(build_net("resnet", [3, 32, 32], 10, depth=20))
        r56 = count_params(build_net("resnet", [3, 32, 32], 10, depth=56))
        wrn = count_params(build_net("wrn", [3, 32, 32], 10, depth=28))
    assert (round(r20 / 1e4), round(r56 / 1e4), round(wrn / 1e5)) == (27, 85, 365)
    with pytest.raises(ConfigError, match="model.net.depth"):
        build_net("resnet", [3, 32, 32], 10, depth=21)
    with pytest.raises(ConfigError, match="model.net.arch"):
        build_net("vgg", [3, 32, 32], 10)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------- bad input
def _module(**kw) -> HPMKDModule:  # noqa: ANN003
    args = {
        "net": build_net("mlp", [4], 3, hidden=[8]),
        "num_classes": 3,
        "optimizer": _adam,
        "teachers": [build_net("mlp", [4], 3, hidden=[16])],
        "method": "kd",
        "input_shape": [4],
    }
    return HPMKDModule(**{**args, **kw})


def test_bad_inputs_name_the_field_value_and_fix():
    with pytest.raises(ConfigError, match=r"model.teachers\[0\].*5 outputs.*3 outputs"):
        _module(teachers=[build_net("mlp", [4], 5, hidden=[8])])
    with pytest.raises(ConfigError, match=r"'model.alpha': got 1.5.*\[0, 1\]"):
        _module(alpha=1.5)
    with pytest.raises(ConfigError, match=r"'model.alpha': got -0.1"):
        _module(alpha=-0.1)
    for t in (0, -2.0):
        with pytest.raises(ConfigError, match=rf"'model.temperature': got {t}.*> 0"):
            _module(temperature=t)
    with pytest.raises(ConfigError, match=r"'model.teachers': got \[\].*at least one teacher.*method=kd"):
        _module(teachers=[])
    with pytest.raises(ConfigError, match=r"'model.teachers': got \[\]"):
        _module(teachers=None, method="hpmkd")
    with pytest.raises(ConfigError, match="model.method"):
        _module(method="hinton")
    with pytest.raises(ConfigError, match="did you mean 'awmt'"):
        _module(components={"awtm": False})
    with pytest.raises(ConfigError, match="model.family"):
        _module(method="hpmkd")  # PDC on, no family
    with pytest.raises(ConfigError, match="model.peer"):
        _module(method="dml", teachers=[])
    assert _module(method="direct", teachers=[]).method == "direct"


def test_baseline_methods_ignore_hpmkd_only_components():
    m = _module(method="kd")
    assert m.comp == {"acm": False, "pdc": False, "awmt": False, "mts": False, "ppp": True, "som": True}
    fam = NetFamily({**MLP_SPEC, "input_shape": [4], "num_classes": 3, "hidden": [8]})
    h = _module(method="hpmkd", family=fam, teachers=[build_net("mlp", [4], 3, hidden=[16])] * 2)
    assert h.awmt is not None and h.awmt.num_teachers == 3  # chain slot + 2 teachers
    assert "teachers" not in h.hparams and "family" not in h.hparams


def test_objectives_are_chosen_by_target_and_checked_against_the_method_label():
    from omegaconf import OmegaConf

    from compresslab.hpmkd import objectives as obj

    root = Path(__file__).resolve().parents[1] / "conf" / "model" / "hpmkd"
    chosen = {}
    for method in ("direct", "kd", "kd_ensemble", "fitnets", "takd", "dml", "hpmkd"):
        node = OmegaConf.load(root / f"{method}.yaml")
        module_name, _, cls = node.objective["_target_"].rpartition(".")
        assert module_name == "compresslab.hpmkd.objectives" and node.method == method
        chosen[method] = getattr(obj, cls).name
    assert chosen == {m: m for m in chosen}  # every method file's class carries its own label
    m = _module(objective=obj.KDEnsemble(), method=None)
    assert (
        m.method == "kd_ensemble"
        and type(m.objective) is obj.KDEnsemble
        and m.hparams.method == "kd_ensemble"
    )
    with pytest.raises(ConfigError, match=r"'model.method': got 'kd'.*'hpmkd'.*model=hpmkd/kd"):
        obj.HPMKD(method="kd")
    with pytest.raises(ConfigError, match=r"'model.method': got 'dml'.*'kd'"):
        _module(objective=obj.KD(), method="dml")
    assert type(obj.for_method("takd")) is obj.TAKD  # the _module config's bridge for model.method sweeps
    # trainable extras sit under fixed names: in the optimiser and the checkpoint whatever the objective's class
    peer = build_net("mlp", [4], 3, hidden=[8])
    d = _module(method="dml", teachers=[], peer=peer)
    assert {k.split(".")[0] for k in d.state_dict()} - {"val_acc_best"} == {"net", "peer"} and d.peer is peer
    f = _module(method="fitnets")
    assert {k.split(".")[0] for k in f.state_dict()} - {"val_acc_best"} == {"net", "regressor"}
    assert f.regressor.proj.in_features == 8 and f.regressor.proj.out_features == 16
    assert f.objective.features and not d.objective.distils and not f.objective.recorded


def test_datamodule_serves_indices_on_request_without_touching_its_splits():
    from compresslab.data import DataModule, SklearnTabular

    dm = DataModule(SklearnTabular("wine"), 3, [13], batch_size=8, seed=1)
    dm.setup()
    train = dm.splits.train
    plain = next(iter(dm.train_dataloader()))
    assert len(plain) == 2
    dm.request_indices()
    x, y, idx = next(iter(dm.train_dataloader()))
    assert dm.splits.train is train and dm.return_indices  # the split itself is not wrapped
    assert torch.equal(x, plain[0]) and torch.equal(y, plain[1])  # same sampler order, items gain their index
    assert torch.equal(torch.stack([train[int(i)][0] for i in idx]), x)
    assert DataModule(SklearnTabular("wine"), 3, [13], return_indices=True).return_indices


# ---------------------------------------------------------------------------------------------- tables
def _write_run(root: Path, name: str, table: str, row: str, method: str | None, acc: float, **extra) -> None:  # noqa: ANN003
    run = root / name
    run.mkdir(parents=True)
    comps = extra.pop("components", {c: True for c in hp_tables.COMPONENTS})
    cfg = {
        "seed": extra.pop("seed", 1),
        "paper": {"table": table, "row": row, "scale": "reduced"},
        "data": {"dataset": {"_target_": "compresslab.data.SklearnTabular", "name": "wine"}},
        "model": {"method": method, "components": comps},
    }
    metrics = {"test/acc": acc, "time/fit_s": extra.pop("wall", 10.0), **extra}
    summary = {"metrics": metrics, "config": cfg, "measure": {"params": {"total": extra.get("params", 1000)}}}
    (run / "metrics.json").write_text(json.dumps(summary))


def test_tables_fill_cells_from_runs_and_name_missing_commands(tmp_path):
    empty = hp_tables.main_table(tmp_path)
    assert empty.rows[0][3] == "missing: `bash scripts/reproduce_hpmkd.sh`"
    _write_run(tmp_path, "t0", "hpmkd_main", "wine/teacher", None, 0.90, seed=0)
    _write_run(tmp_path, "kd1", "hpmkd_main", "kd", "kd", 0.81)
    _write_run(tmp_path, "kd2", "hpmkd_main", "kd", "kd", 0.83, seed=2)
    _write_run(tmp_path, "hp1", "hpmkd_main", "hpmkd", "hpmkd", 0.85)
    off = {c: c != "pdc" for c in hp_tables.COMPONENTS}
    _write_run(tmp_path, "ab1", "hpmkd_main", "hpmkd", "hpmkd", 0.84, components=off, wall=5.0)
    main = hp_tables.main_table(tmp_path)
    rows = {r[1]: r for r in main.rows}
    assert rows["KD (Hinton)"][3] == "82.0 ± 1.4 (n=2)"
    assert rows["KD (Hinton)"][4] == "91.1 ± 1.6 (n=2)"  # retention vs the seed-0 teacher
    assert rows["HPM-KD"][3] == "85.0 ± 0.0 (n=1)"  # the ablation arm is not an HPM-KD row
    assert rows["Direct"][3].startswith("missing")
    ablation = hp_tables.ablation_table(tmp_path)
    pdc = next(r for r in ablation.rows if r[1].startswith("ProgChain"))
    assert pdc[3] == "-1.00" and pdc[5] == "-50" and pdc[-1] == "-2.86"
    _write_run(tmp_path, "c1", "hpmkd_time", "cold", "hpmkd", 0.8, wall=20.0)
    _write_run(tmp_path, "w1", "hpmkd_time", "warm", "hpmkd", 0.8, wall=15.0, **{"som/hits": 4.0})
    time_rows = {r[0].split(":")[0]: r for r in hp_tables.time_table(tmp_path).rows}
    assert (
        time_rows["warm"][1] == "15.0 ± 0.0"
        and time_rows["warm"][2] == "-25 %"
        and time_rows["warm"][3] == "4.0"
    )
    assert set(hp_tables.TABLES) == {"hpmkd_main", "hpmkd_ablation", "hpmkd_time"}
    assert paper_values.hpmkd_main("cifar10/hpmkd") == {"acc": 92.34, "retention": 98.74}
    assert paper_values.hpmkd_main("wine/kd") == {"acc": 67.12, "retention": 84.66, "time_s": 578.0}
    assert paper_values.hpmkd_main("wine/dml") is None


def test_kd_ensemble_distils_from_the_equal_weight_mean_of_all_teachers():
    torch.manual_seed(0)
    teachers = [build_net("mlp", [4], 3, hidden=[16]) for _ in range(3)]
    m = _module(method="kd_ensemble", teachers=teachers)
    m._cacheable = False  # no setup: the teachers run on the batch
    m._build_teacher_set(teachers[0], None)
    assert m._set_models == teachers and m.choices["teacher_set"] == ["teacher0", "teacher1", "teacher2"]
    x, y = torch.randn(5, 4), torch.tensor([0, 1, 2, 0, 1])
    logits = m.net(x)
    loss = m._loss(x, y, None, logits, [])
    t, a = m._t0, m._alpha
    p = torch.stack([F.softmax(te(x) / t, -1) for te in teachers]).mean(0)
    kl = F.kl_div(F.log_softmax(logits / t, -1), p, reduction="batchmean") * t * t
    assert torch.allclose(loss, a * kl + (1 - a) * F.cross_entropy(logits, y), atol=1e-5)


def test_headroom_precondition_and_did_it_act_columns(tmp_path):
    def run(name: str, row: str, method: str | None, acc: float, seed: int, **metrics) -> None:  # noqa: ANN003
        d = tmp_path / name
        d.mkdir()
        cfg = {
            "seed": seed,
            "paper": {"table": "hpmkd_main", "row": row, "scale": "reduced"},
            "data": {"dataset": {"_target_": "compresslab.data.SklearnTabular", "name": "digits"}},
            "model": {"method": method, "components": dict.fromkeys(hp_tables.COMPONENTS, True)},
        }
        summary = {"metrics": {"test/acc": acc, "time/fit_s": 10.0, **metrics}, "config": cfg, "measure": {}}
        (d / "metrics.json").write_text(json.dumps(summary))

    run("t0", "digits/teacher", None, 0.98, 0)
    for s, acc in ((1, 0.90), (2, 0.91), (3, 0.89)):
        run(f"d{s}", "digits_headroom/direct", "direct", acc, s)
        acted = {"acm/method": 1.0, "acm/changed": float(s == 1), "hpmkd/T0": 4.0, "hpmkd/alpha": 0.7,
                 "hpmkd/chain_steps": 1.0, "hpmkd/chain_best": 0.0, "awmt/w0": 0.0, "awmt/w1": 0.5,
                 "awmt/w2": 0.5, "awmt/entropy_norm": 0.9, "mts/T_first": 4.0, "mts/T_last": 2.5,
                 "mts/T_min": 2.4, "mts/T_max": 4.2}  # fmt: skip
        run(f"h{s}", "digits_headroom/hpmkd", "hpmkd", acc + 0.01, s, **acted)
    main = hp_tables.main_table(tmp_path)
    rows = [r for r in main.rows if r[0].startswith(hp_tables.HEADROOM)]
    assert rows and not any(r[0].startswith("digits (tabular)") for r in main.rows)  # teachers only: no block
    gap = next(r for r in rows if r[1] == hp_tables.GAP_METHOD)
    assert gap[3] == "8.0 ± 1.0 pp (n=3)"
    pre = next(v for v in main.verdicts if "precondition" in v.claim.text)
    assert pre.label == "holds" and pre.n == 3
    ablation = hp_tables.ablation_table(tmp_path)
    full = next(r for r in ablation.rows if r[1] == "none (all six)")
    assert full[6:10] == [
        "kNN · 1/3 · 4.00/0.70",
        "1.0 · 0/3",
        "[0.00, 0.50, 0.50] · 0.90",
        "4.00→2.50 [2.40, 4.20]",
    ]


# ------------------------------------------------------------------------------------------ end to end
# every HPM-KD experiment runs in tests/test_experiments.py; here one family in-process, to check what runs record
EXPERIMENTS = ["tabular"]
STUDENT_METHODS = ["hpmkd", "direct", "kd", "kd_ensemble", "fitnets", "takd", "dml"]


@pytest.mark.slow
@pytest.mark.parametrize("family", EXPERIMENTS)
def test_every_method_runs_fast_dev_run_after_its_teacher(family, tmp_path, monkeypatch):
    """teacher experiment (1 epoch of 1 batch, so that it writes the checkpoint) → every method's student
    experiment with trainer.fast_dev_run=true, in-process, on the real configs."""
    from compresslab.train import train
    from tests.helpers.compose import compose_cfg
    from tests.helpers.fixtures import write_cifar10_binary, write_cifar100_binary

    monkeypatch.setenv("COMPRESSLAB_SOM_DIR", str(tmp_path / "som"))
    quiet = [
        "logger=csv",
        "extras.print_config=false",
        "callbacks.rich_progress_bar=null",
        "callbacks.model_summary=null",
        "measure.enabled=false",
        f"paths.log_dir={tmp_path / 'logs'}",
    ]
    if family.startswith("cifar"):
        (write_cifar10_binary if family == "cifar10" else write_cifar100_binary)(tmp_path / "data")
        quiet += [
            "trainer=cpu",
            f"paths.data_dir={tmp_path / 'data'}",
            "data.batch_size=4",
            "data.num_workers=0",
        ]
    teacher_dir = tmp_path / "logs" / "hpmkd" / "teachers"
    name = {"tabular": "tabular_breast_cancer", "digits": "digits8"}.get(family, family)
    teacher_over = ["trainer.max_epochs=1", "trainer.limit_train_batches=1", "trainer.limit_val_batches=1"]
    # the experiment's fixed run dir (compose_cfg points hydra.run.dir and paths.output_dir at it)
    cfg = compose_cfg(
        "train", [f"experiment=hpmkd/{family}_teacher", *quiet, *teacher_over], teacher_dir / name / "seed0"
    )
    train(cfg)
    for k in (1, 2):  # AWMT's other two teachers: the same run (keeps the test short)
        os.symlink(teacher_dir / name / "seed0", teacher_dir / name / f"seed{k}")
    for method in STUDENT_METHODS:
        out = tmp_path / f"s_{method}"
        cfg = compose_cfg(
            "train",
            [f"experiment=hpmkd/{family}", f"model=hpmkd/{method}", "+trainer.fast_dev_run=true", *quiet],
            out,
        )
        metrics, objs = train(cfg)
        assert "test/acc" in metrics, (family, method)
        if method == "hpmkd":
            assert "train/temperature" in metrics and 2.0 <= float(metrics["train/temperature"]) <= 6.0
            assert objs["model"].chain_outcome is not None
            # did it act: what each component chose, as metrics and as hpmkd_choices.json
            for key in ("acm/method", "acm/changed", "hpmkd/chain_steps", "awmt/entropy_norm", "mts/T_first"):
                assert key in metrics, key
            choices = json.loads((out / "hpmkd_choices.json").read_text())
            assert {"acm", "pdc", "awmt", "mts", "teacher_set"} <= set(choices)
            assert choices["acm"]["source"] in ("default", "knn", "regressor")
            assert choices["pdc"]["taught_by"] == "teacher" or choices["pdc"]["taught_by"].startswith("f_")


def _sharded_worker(rank: int, world: int, init_file: str, out: str) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    net = build_net("mlp", [5], 3, hidden=[7]).eval()
    ds = TensorDataset(torch.randn(11, 5), torch.randint(0, 3, (11,)))
    logits, feats = batched_outputs(net, ds, batch_size=2, features=True)
    acc = evaluate(net, ds, batch_size=2)
    if rank == 0:
        torch.save(
            {"logits": logits, "feats": feats, "acc": acc, "ref": net(ds.tensors[0]), "y": ds.tensors[1]}, out
        )
    dist.destroy_process_group()


@pytest.mark.slow
def test_teacher_inference_sharded_over_two_processes_equals_one(tmp_path):
    """PPP's DDP inference: rows rank::world on each process, all-gathered back into dataset order."""
    torch.multiprocessing.spawn(
        _sharded_worker, args=(2, str(tmp_path / "init"), str(tmp_path / "out.pt")), nprocs=2, join=True
    )
    got = torch.load(tmp_path / "out.pt", weights_only=True)
    torch.testing.assert_close(got["logits"], got["ref"].detach())
    assert got["feats"].shape == (11, 7)
    assert got["acc"] == pytest.approx(float((got["ref"].argmax(1) == got["y"]).float().mean()))


@pytest.mark.slow
def test_hpmkd_run_records_its_row_and_the_second_job_hits_the_cache(tmp_path):
    """Two real (short) HPM-KD jobs on one SOM store in two processes: the second finds the teacher logits and
    the chain models in the cache, and the history has both rows."""
    from tests.helpers.cli import QUIET_CLI, run_cli

    som = tmp_path / "som"
    common = [f"paths.log_dir={tmp_path}", *QUIET_CLI, "trainer.max_epochs=2", "callbacks.model_summary=null"]
    run_cli("train", "-m", "experiment=hpmkd/tabular_teacher", "seed=0,1,2", "data=tabular/wine", *common)
    student = [
        "experiment=hpmkd/tabular",
        "data=tabular/wine",
        f"model.som_dir={som}",
        "model.acm.refine=false",
        *common,
    ]
    run_cli("train", *student, "hydra.run.dir=" + str(tmp_path / "s1"))
    run_cli("train", *student, "hydra.run.dir=" + str(tmp_path / "s2"))
    m1 = json.loads((tmp_path / "s1" / "metrics.json").read_text())["metrics"]
    m2 = json.loads((tmp_path / "s2" / "metrics.json").read_text())["metrics"]
    assert m1["som/misses"] > 0
    assert m2["som/misses"] == 0 and m2["som/hits"] >= 4  # val + 3 teachers' training logits (+ chain)
    assert m2["som/model_hits"] == m1["hpmkd/chain_steps"]
    assert SharedOptimizationMemory(som).count_runs() == 2
