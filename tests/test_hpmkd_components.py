"""Meta-Temperature Scheduler and Adaptive Configuration Manager: the math, the choices, the bad input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from torch import nn

from compresslab.hpmkd.config_manager import (
    DEFAULT_CONFIG,
    AdaptiveConfigManager,
    KDConfig,
    MetaFeatures,
)
from compresslab.hpmkd.memory import SharedOptimizationMemory
from compresslab.hpmkd.temperature import (
    MetaTemperatureScheduler,
    convergence_s,
    cosine_s,
    loss_s,
    select_strategy,
    temperature_from_s,
)
from compresslab.utils.errors import ConfigError

# ------------------------------------------------------------------------------------------------- MTS


def _curves(n: int) -> dict[str, np.ndarray]:
    """Synthetic training losses over n steps; their first 10 % decide the auto strategy."""
    rng = np.random.default_rng(0)
    x = np.arange(n) / n
    return {
        "noisy_flat": 1.0 + 0.2 * rng.standard_normal(n),  # no trend → cosine
        "steady": 2.3 - 1.5 * x + 0.02 * rng.standard_normal(n),  # still falling → loss
        "plateau": 0.3
        + 2.0 * np.exp(-100 * x)
        + 0.01 * rng.standard_normal(n),  # flat within the probe → conv.
    }


def _run(mts: MetaTemperatureScheduler, losses) -> np.ndarray:
    temps = [mts.temperature]
    temps += [mts.step(v) for v in losses]
    return np.array(temps)


def test_s_functions_and_eq18() -> None:
    assert (cosine_s(0.0), cosine_s(0.5), cosine_s(1.0), cosine_s(2.0)) == (1.0, pytest.approx(0.5), 0.0, 0.0)
    assert loss_s(1.0, loss_max=4.0) == 0.25 and loss_s(4.0, 4.0) == 1.0 and loss_s(-1.0, 4.0) == 0.0
    assert loss_s(3.0, loss_max=5.0, loss_floor=1.0) == 0.5 and loss_s(2.0, 2.0, 2.0) == 1.0
    assert convergence_s(0.0) == 0.0 and convergence_s(math.log(2.0), lam=1.0) == pytest.approx(0.5)
    assert convergence_s(-math.log(4.0), lam=0.5) == pytest.approx(0.5)  # |dL/dt|
    assert temperature_from_s(0.25, 2.0, 6.0) == 3.0 and temperature_from_s(1.7, 2.0, 6.0) == 6.0


def test_cosine_endpoints_are_exact() -> None:
    temps = _run(MetaTemperatureScheduler(100, strategy="cosine"), [1.0] * 120)
    assert temps[0] == 6.0 and temps[100] == 2.0 and temps[120] == 2.0
    assert temps[50] == pytest.approx(4.0, abs=1e-12)
    assert temps[25] == pytest.approx(2.0 + 4.0 * (1 + math.cos(math.pi / 4)) / 2, abs=1e-12)
    assert np.all(np.diff(temps) <= 0)  # monotone decay


@pytest.mark.parametrize("strategy", ["auto", "cosine", "loss", "convergence"])
@pytest.mark.parametrize("curve", ["noisy_flat", "steady", "plateau", "wild"])
def test_temperature_stays_in_range(strategy: str, curve: str) -> None:
    n = 400
    if curve == "wild":  # spikes, negative values, NaN and None: nothing pushes T out of range
        rng = np.random.default_rng(1)
        losses = list(rng.standard_normal(n) * 50)
        losses[::37] = [1e6] * len(losses[::37])
        losses[5::41] = [math.nan] * len(losses[5::41])
        losses[7::53] = [None] * len(losses[7::53])
    else:
        losses = list(_curves(n)[curve])
    for t_min, t_max, t0 in ((2.0, 6.0, 4.0), (1.0, 10.0, 1.0), (3.0, 3.0, 3.0)):
        temps = _run(MetaTemperatureScheduler(n, t_min, t_max, t0, strategy=strategy), losses)
        assert np.all(np.isfinite(temps)) and temps.min() >= t_min and temps.max() <= t_max


@pytest.mark.parametrize(
    ("curve", "expected"), [("noisy_flat", "cosine"), ("steady", "loss"), ("plateau", "convergence")]
)
def test_auto_picks_the_strategy_from_the_first_ten_percent(curve: str, expected: str) -> None:
    n = 1000
    losses = _curves(n)[curve]
    mts = MetaTemperatureScheduler(n)  # auto, probe 100 steps
    temps = _run(mts, losses[:99])
    assert mts.strategy == "probe" and np.all(temps == 4.0)  # T0 during the probe
    mts.step(losses[99])
    assert mts.strategy == expected and mts.dynamics is not None and mts.dynamics.n == 100
    assert select_strategy(losses[:100]).strategy == expected


def test_select_strategy_measures() -> None:
    x = np.arange(99) / 98
    lin = select_strategy(3.0 - x)  # thirds of 33: equal successive drops
    assert (
        lin.strategy == "loss"
        and lin.end_rate == pytest.approx(1.0)
        and lin.drop == pytest.approx(66 / 98)  # mean of x: 16/98 → 82/98
    )
    fast = select_strategy(np.exp(-9 * x))  # second drop ≈ e^{-3} of the first
    assert fast.strategy == "convergence" and fast.end_rate == pytest.approx(math.exp(-3), rel=0.1)
    assert select_strategy([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).strategy == "cosine"  # rising
    assert select_strategy([2.0, 1.0]).strategy == "cosine"  # too few


def test_loss_and_convergence_strategies_follow_their_equations() -> None:
    mts = MetaTemperatureScheduler(100, strategy="loss", ema=0.0, blend_fraction=0.0)
    assert [mts.step(v) for v in (4.0, 3.0, 2.0, 1.0, 0.0)] == [6.0, 5.0, 4.0, 3.0, 2.0]  # 2 + 4·L/L_max

    mts = MetaTemperatureScheduler(100, strategy="convergence", ema=0.0, blend_fraction=0.0)  # window 5
    temps = [mts.step(10.0 - 0.1 * i) for i in range(20)]
    assert temps[:5] == [4.0] * 5  # dL/dt undefined until the window is full
    # |ΔL| = 0.5 over 5 steps = 5 % of training, relative to L_max = 10 → rate 1 → s = 1 − e^{−1}
    assert temps[10] == pytest.approx(2.0 + 4.0 * (1 - math.exp(-1)))
    temps = [mts.step(8.0) for _ in range(10)]
    assert temps[-1] == 2.0  # converged → T_min


def test_auto_blends_from_t0_into_the_chosen_schedule() -> None:
    mts = MetaTemperatureScheduler(100, strategy="auto")  # probe 10 steps, blend 5 steps
    temps = _run(mts, [1.0 + 0.3 * (-1) ** i for i in range(20)])  # noise only → cosine
    assert mts.strategy == "cosine"
    cos_t = [2.0 + 4.0 * cosine_s(t / 100) for t in range(21)]
    assert temps[10] == 4.0
    assert temps[12] == pytest.approx(0.6 * 4.0 + 0.4 * cos_t[12])
    assert temps[15] == pytest.approx(cos_t[15]) and temps[20] == pytest.approx(cos_t[20])


def test_state_dict_resumes_identically() -> None:
    losses = _curves(300)["steady"]
    a = MetaTemperatureScheduler(300)
    _run(a, losses[:120])
    b = MetaTemperatureScheduler(300)
    b.load_state_dict(a.state_dict())
    assert b.strategy == a.strategy == "loss"
    assert np.array_equal(_run(a, losses[120:]), _run(b, losses[120:]))


def test_mts_bad_values_raise_config_error() -> None:
    bad = [
        ({"t_min": 0.0}, "mts.t_min"),
        ({"t_min": -1.0, "t0": 4.0}, "mts.t_min"),
        ({"t_min": 5.0, "t_max": 3.0, "t0": 4.0}, "mts.t_min"),
        ({"t0": 7.0}, "mts.t0"),
        ({"strategy": "linear"}, "mts.strategy"),
        ({"probe_fraction": 0.0}, "mts.probe_fraction"),
    ]
    for kwargs, key in bad:
        with pytest.raises(ConfigError, match=key) as info:
            MetaTemperatureScheduler(100, **kwargs)
        assert info.value.key == key and "Fix:" in str(info.value)
        assert f"got {kwargs[key.removeprefix('mts.')]!r}" in str(info.value)
    with pytest.raises(ConfigError, match="mts.total_steps': got 0, expected an int ≥ 1"):
        MetaTemperatureScheduler(0)
    with pytest.raises(ConfigError, match="mts.update_every': got 2.5, expected a value of type int"):
        MetaTemperatureScheduler(100, update_every=2.5)
    with pytest.raises(ConfigError, match="mts.lam': got inf, expected a finite float > 0"):
        MetaTemperatureScheduler(100, lam=float("inf"))
    mts = MetaTemperatureScheduler.from_t0(4.0, 100)
    assert (mts.t_min, mts.t_max, mts.t0, mts.temperature) == (2.0, 6.0, 4.0, 4.0)
    with pytest.raises(ConfigError, match="mts.t0': got 0.0"):
        MetaTemperatureScheduler.from_t0(0.0, 100)
    with pytest.raises(ConfigError, match=r"mts.spread': got 1.0, expected a float in \[0, 1\)"):
        MetaTemperatureScheduler.from_t0(4.0, 100, spread=1.0)


# ------------------------------------------------------------------------------------------------- ACM


def _meta(n_samples: int = 1000, teacher_accuracy: float = 0.9, **kw) -> MetaFeatures:
    base = {
        "n_samples": n_samples,
        "n_classes": 10,
        "input_dim": 64,
        "imbalance": 1.2,
        "label_entropy": 2.25,
        "teacher_params": 120_000,
        "student_params": 10_000,
        "teacher_accuracy": teacher_accuracy,
    }
    return MetaFeatures(**{**base, **kw})


def _row(meta: MetaFeatures, config: KDConfig | dict, score: float, rid: str) -> dict:
    cfg = config.to_dict() if isinstance(config, KDConfig) else config
    return {"run_id": rid, "meta": meta.__dict__, "config": cfg, "result": {"retention": score}}


def test_meta_features_from_data() -> None:
    labels = np.array([0] * 30 + [1] * 10)
    meta = MetaFeatures.from_data(labels, (3, 8, 8), nn.Linear(10, 5), 11, teacher_accuracy=0.8)
    assert (meta.n_samples, meta.n_classes, meta.input_dim) == (40, 2, 192)
    assert meta.imbalance == 3.0 and meta.label_entropy == pytest.approx(0.5623351446)
    assert (meta.teacher_params, meta.student_params, meta.compression_ratio) == (55, 11, 5.0)
    assert meta.vector()[4] == pytest.approx(0.5623351446 / math.log(2))  # entropy / log K
    with pytest.raises(ConfigError, match="acm.meta.n_classes"):
        MetaFeatures.from_data(labels, 64, 100, 10, 0.8, n_classes=1)


def test_knn_returns_the_config_of_the_nearest_task() -> None:
    a, b, c = _meta(1000), _meta(4000), _meta(1_000_000, teacher_accuracy=0.6)
    cfg_a, cfg_b = KDConfig(2.0, 0.2, 1e-4, 10), KDConfig(6.0, 0.6, 1e-2, 30)
    history = [
        _row(a, cfg_a, 0.95, "a-best"),
        _row(a, KDConfig(8.0, 0.9, 1e-5, 10), 0.50, "a-worse"),
        _row(b, cfg_b, 0.93, "b-best"),
        _row(b, KDConfig(3.0, 0.1, 1e-3, 30), 0.60, "b-worse"),
        _row(c, KDConfig(8.0, 1.0, 1e-5, 99), 0.99, "c"),
    ]
    acm = AdaptiveConfigManager(k=2)
    exact = acm.explain(b, history)  # the task was run before: its best configuration
    assert exact.method == "knn" and exact.config == cfg_b and exact.neighbours[0][:2] == ("b-best", 0.0)
    assert AdaptiveConfigManager(k=1).suggest(_meta(1100), history) == cfg_a
    # 2000 lies halfway between 1000 and 4000 in log space: equal weights on the two best configurations
    mid = acm.explain(_meta(2000), history)
    assert {n[0] for n in mid.neighbours} == {"a-best", "b-best"}
    assert mid.neighbours[0][1] == pytest.approx(mid.neighbours[1][1])
    assert mid.config.temperature == pytest.approx(4.0) and mid.config.alpha == pytest.approx(0.4)
    assert mid.config.lr == pytest.approx(1e-3) and mid.config.epochs == 20  # lr: geometric mean


def _sweep(n_rows: int) -> list[dict]:
    """A synthetic sweep over three tasks whose retention peaks at T = 6, α = 0.3, lr = 1e-3."""
    rng = np.random.default_rng(0)
    tasks = [_meta(500), _meta(5000), _meta(50_000, teacher_accuracy=0.7)]
    rows = []
    for j in range(n_rows):
        t, a, lr = (
            float(rng.choice([2, 3, 4, 5, 6, 7, 8])),
            float(rng.uniform(0, 1)),
            float(10 ** rng.uniform(-5, -2)),
        )
        score = (
            [0.95, 0.9, 0.85][j % 3]
            - 0.02 * (t - 6) ** 2
            - 0.5 * (a - 0.3) ** 2
            - 0.02 * (math.log10(lr) + 3) ** 2
        )
        rows.append(_row(tasks[j % 3], KDConfig(t, a, lr, 30), score, f"r{j}"))
    return rows


def test_regressor_path_above_the_threshold() -> None:
    history = _sweep(60)
    query = _meta(5000)
    below = AdaptiveConfigManager(regressor_threshold=61).explain(query, history)
    assert below.method == "knn" and below.predicted_score is None
    above = AdaptiveConfigManager(regressor_threshold=60).explain(query, history)
    assert above.method == "regressor" and above.n_history == 60
    c = above.config
    assert c.temperature == 6.0 and c.alpha in (0.2, 0.3, 0.4) and abs(math.log10(c.lr) + 3) <= 0.5
    assert c.epochs == 30 and above.predicted_score == pytest.approx(0.9, abs=0.05)
    assert (
        AdaptiveConfigManager(regressor_threshold=60, regressor="rf").explain(query, history).method
        == "regressor"
    )


def test_empty_history_gives_the_default_and_bad_rows_are_skipped(tmp_path: Path) -> None:
    acm = AdaptiveConfigManager()
    assert acm.explain(_meta(), []).method == "default" and acm.suggest(_meta(), None) == DEFAULT_CONFIG
    assert DEFAULT_CONFIG == KDConfig(4.0, 0.7, 1e-3, 150)
    junk = [{"meta": {"n_samples": 5}, "config": {}, "result": {}}, {"meta": _meta().__dict__}]
    with pytest.warns(UserWarning, match="skipped 2 history rows"):
        assert acm.explain(_meta(), junk).method == "default"


def test_suggestions_are_clipped_to_the_ranges() -> None:
    assert KDConfig.clipped(20.0, -0.5, 1.0, 0) == KDConfig(8.0, 0.0, 1e-2, 1)
    assert KDConfig.clipped(1.0, 1.5, 1e-7, 12.6) == KDConfig(2.0, 1.0, 1e-5, 13)
    raw = {
        "T": 10.0,
        "alpha": 1.3,
        "learning_rate": 0.5,
        "epochs": 5,
    }  # written by another tool, out of range
    got = AdaptiveConfigManager().suggest(_meta(), [_row(_meta(), raw, 0.9, "x")])
    assert got == KDConfig(8.0, 1.0, 1e-2, 5)


def test_acm_bad_values_raise_config_error_naming_the_field() -> None:
    cases = [
        (lambda: KDConfig(0.0, 0.5, 1e-3, 10), "acm.temperature", "0.0"),
        (lambda: KDConfig(-4.0, 0.5, 1e-3, 10), "acm.temperature", "-4.0"),
        (lambda: KDConfig(4.0, 1.5, 1e-3, 10), "acm.alpha", "1.5"),
        (lambda: KDConfig(4.0, -0.1, 1e-3, 10), "acm.alpha", "-0.1"),
        (lambda: KDConfig(4.0, 0.5, 0.1, 10), "acm.lr", "0.1"),
        (lambda: KDConfig(4.0, 0.5, 1e-3, 0), "acm.epochs", "0"),
        (lambda: KDConfig(4.0, math.nan, 1e-3, 10), "acm.alpha", "nan"),
        (lambda: _meta(n_classes=1, label_entropy=0.0), "acm.meta.n_classes", "1"),
        (lambda: _meta(teacher_accuracy=97.0), "acm.meta.teacher_accuracy", "97.0"),
        (lambda: _meta(imbalance=0.5), "acm.meta.imbalance", "0.5"),
        (lambda: AdaptiveConfigManager(k=0), "acm.k", "0"),
        (lambda: AdaptiveConfigManager(regressor="svm"), "acm.regressor", "'svm'"),
    ]
    for make, key, value in cases:
        with pytest.raises(ConfigError) as info:
            make()
        assert info.value.key == key and f"got {value}" in str(info.value) and "Fix:" in str(info.value)


def test_refine_keeps_the_best_candidate() -> None:
    base = KDConfig(4.0, 0.5, 1e-3, 10)
    cands = AdaptiveConfigManager.candidates_around(base)
    assert len(cands) == 7 and cands[0] == base
    assert {(c.temperature, c.alpha) for c in cands} >= {(3.0, 0.5), (5.0, 0.5), (4.0, 0.3), (4.0, 0.7)}
    assert sorted({c.lr for c in cands}) == pytest.approx([1e-3 / 3, 1e-3, 3e-3])
    assert (
        len(AdaptiveConfigManager.candidates_around(KDConfig(8.0, 1.0, 1e-2, 10))) == 4
    )  # clipped duplicates

    def score(c: KDConfig) -> float:
        return -((c.temperature - 5) ** 2) - (c.alpha - 0.7) ** 2

    result = AdaptiveConfigManager.refine(cands, score)
    assert result.best == KDConfig(5.0, 0.5, 1e-3, 10) and result.best_score == pytest.approx(-0.04)
    assert len(result.scores) == 7

    calls: list[KDConfig] = []

    def quick(c: KDConfig) -> float:
        calls.append(c)
        return score(c)

    acm = AdaptiveConfigManager()
    kept = acm.validate_and_refine(base, quick, threshold=-2.0, epochs=3)  # good enough: one short run
    assert kept.best == base and calls == [KDConfig(4.0, 0.5, 1e-3, 3)]
    calls.clear()
    refined = acm.validate_and_refine(base, quick, threshold=0.0, epochs=3)
    assert len(calls) == 7 and all(c.epochs == 3 for c in calls)
    assert refined.best == KDConfig(5.0, 0.5, 1e-3, 10)  # the full-length configuration is returned


def test_acm_reads_its_history_from_the_som_store(tmp_path: Path) -> None:
    som = SharedOptimizationMemory(tmp_path)
    task = _meta(3000)
    som.add_run(task, KDConfig(5.0, 0.8, 3e-4, 40), {"retention": 0.97})
    som.add_run(task, KDConfig(3.0, 0.4, 3e-3, 40), {"retention": 0.91})
    som.add_run(_meta(30), KDConfig(2.0, 0.1, 1e-5, 5), {"retention": 0.99})
    som.add_run(task, KDConfig(7.0, 0.4, 3e-3, 40), {"accuracy": 0.5})  # no retention: skipped
    with pytest.warns(UserWarning, match="skipped 1"):
        got = AdaptiveConfigManager().explain(task, som)
    assert got.method == "knn" and got.n_history == 3 and got.config == KDConfig(5.0, 0.8, 3e-4, 40)
