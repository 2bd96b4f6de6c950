"""Adaptive Configuration Manager (ACM): choose the distillation configuration c = (T₀, α, lr, epochs) from
the meta-features of (dataset, teacher, student) and the history of past runs kept in the Shared Optimization
Memory.

Numbers refer to the authors' LaTeX draft (``01_HPM-KD_Framework/POR``, §4.2, equations numbered as it compiles;
``shared/papers/hpmkd.md`` §2.1):

* meta-features (§4.2.1): N, K, d, class imbalance ρ = max_k p_k / min_k p_k, label entropy
  C_D = −Σ p_k log p_k, |θ_T|, |θ_S|, compression ratio r = |θ_T| / |θ_S|, Acc_T. The draft's feature moments
  and the architecture one-hot are left out: they are undefined for images and already implied by the
  parameter counts.
* history Eq. (5): H = {(m_j, c_j, perf_j)} — rows of
  :class:`~compresslab.hpmkd.memory.SharedOptimizationMemory`; perf is ``result[score_key]`` (accuracy
  retention by default, as the draft says).
* configuration ranges (§4.2.2): T₀ ∈ [2, 8], α ∈ [0, 1], η ∈ [1e-5, 1e-2]. Suggestions are clipped to them;
  values a user passes outside them raise :class:`~compresslab.utils.errors.ConfigError`.
* Algorithm 1: with |H| > 50 a gradient-boosted regressor, Eq. (6) ĉ = g_ACM(m); otherwise "average the top-5
  configurations by cosine similarity"; then a 10-epoch QuickValidation and, below a threshold, a grid
  refinement.

Where we differ, and why:

* **Small history (k-nearest tasks).** Rows are grouped into tasks (identical meta-features); each task
  contributes its best-scoring configuration; the k tasks nearest to the query by *standardised Euclidean*
  distance (z-scores over the history, so that no feature dominates through its units; cosine on raw features
  is dominated by the parameter counts) are averaged with inverse-distance weights (T, α arithmetically, lr
  geometrically, epochs rounded). An exact meta-feature match returns that task's best configuration.
  Averaging *all* rows, as Algorithm 1 reads, would average the good and the bad configurations of a sweep
  into the centre of its grid.
* **Large history (regressor).** Eq. (6) maps m straight to c, which needs "optimal c" labels the history does
  not have. We fit the regressor on (m, c) → perf and take ĉ = argmax_c ĝ(m, c) over a candidate grid (the
  arXiv version's "c* = argmax_c E[r | φ, c]"). Ties (flat tree predictions) go to the candidate closest to
  the k-nearest suggestion.
* **Empty history.** :data:`DEFAULT_CONFIG`: T = 4, α = 0.7 (the draft's Hinton-KD setting, appendix table),
  lr = 1e-3 (its Adam lr), 150 epochs (its student budget; pass ``default=`` for reduced-scale runs).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from compresslab.hpmkd.meta_features import (  # noqa: F401  (re-exported: the names' old home)
    ALPHA_RANGE,
    DEFAULT_CONFIG,
    DEFAULT_GRID,
    LR_RANGE,
    T0_RANGE,
    KDConfig,
    MetaFeatures,
    _count,
    _in_range,
    _real,
)
from compresslab.utils.errors import ConfigError, check_type


# --------------------------------------------------------------------------------------------- history
@dataclass(frozen=True)
class _History:
    meta: np.ndarray  # (n, n_features)
    configs: list[KDConfig]
    scores: np.ndarray  # (n,)
    run_ids: list[str]
    skipped: int


def _rows(history: Any) -> Iterable[Any]:
    if history is None:
        return []
    if hasattr(history, "runs") and callable(history.runs):  # a SharedOptimizationMemory
        return history.runs()
    return history


def _parse_history(history: Any, score_key: str) -> _History:
    """Rows as RunRecords, meta/config/result mappings or (meta, config, result) tuples; skips bad rows."""
    metas, configs, scores, ids = [], [], [], []
    skipped = 0
    for i, row in enumerate(_rows(history)):
        try:
            if isinstance(row, Mapping):
                meta, config, result, rid = (
                    row["meta"],
                    row["config"],
                    row["result"],
                    row.get("run_id", str(i)),
                )
            elif hasattr(row, "meta"):
                meta, config, result, rid = row.meta, row.config, row.result, getattr(row, "run_id", str(i))
            else:
                (meta, config, result), rid = row, str(i)
            m = meta if isinstance(meta, MetaFeatures) else MetaFeatures.from_dict(meta)
            c = config if isinstance(config, KDConfig) else KDConfig.from_dict(config)
            score = float(result[score_key])
            if not math.isfinite(score):
                raise ValueError("non-finite score")
        except (KeyError, TypeError, ValueError):  # ConfigError is a ValueError
            skipped += 1
            continue
        metas.append(m.vector())
        configs.append(c)
        scores.append(score)
        ids.append(str(rid))
    if skipped:
        warnings.warn(
            f"ACM skipped {skipped} history rows without valid meta-features, config or "
            f"result['{score_key}'].",
            stacklevel=3,
        )
    meta_arr = np.vstack(metas) if metas else np.zeros((0, len(MetaFeatures.FEATURES)))
    return _History(meta_arr, configs, np.asarray(scores, dtype=np.float64), ids, skipped)


@dataclass(frozen=True)
class Suggestion:
    """The chosen configuration and how it was found.

    Attributes:
        config: the configuration (clipped to the ACM ranges).
        method: ``"default"``, ``"knn"`` or ``"regressor"``.
        n_history: usable history rows.
        neighbours: (run id of the task's best row, standardised distance, score) of the tasks used by kNN.
        predicted_score: the regressor's predicted score of ``config`` (regressor path only).
    """

    config: KDConfig
    method: str
    n_history: int
    neighbours: tuple[tuple[str, float, float], ...] = ()
    predicted_score: float | None = None


@dataclass(frozen=True)
class RefineResult:
    """Outcome of :meth:`AdaptiveConfigManager.refine`: the best candidate and every (candidate, score)."""

    best: KDConfig
    best_score: float
    scores: tuple[tuple[KDConfig, float], ...]


# --------------------------------------------------------------------------------------------- manager
class AdaptiveConfigManager:
    """Suggest c = (T₀, α, lr, epochs) for a task from the run history (Algorithm 1).

    Args:
        k: neighbouring tasks averaged on the small-history path (draft: top-5).
        regressor_threshold: usable rows from which the regressor path is used (draft: |H| > 50).
        score_key: the result metric to maximise (``result[score_key]``; draft: accuracy retention).
        default: the configuration for an empty history.
        regressor: ``"gbr"`` (gradient boosting, as the draft) or ``"rf"`` (random forest).
        grid: candidate values of ``temperature``, ``alpha`` and ``lr`` for the regressor path.
        epochs: candidate epoch counts; default: the distinct values in the history.
        seed: random state of the regressor.
    """

    def __init__(
        self,
        k: int = 5,
        regressor_threshold: int = 50,
        score_key: str = "retention",
        default: KDConfig = DEFAULT_CONFIG,
        regressor: str = "gbr",
        grid: Mapping[str, Sequence[float]] | None = None,
        epochs: Sequence[int] | None = None,
        seed: int = 0,
    ) -> None:
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ConfigError("acm.k", k, "an int ≥ 1", "the draft averages the top-5 neighbours (k=5).")
        if (
            isinstance(regressor_threshold, bool)
            or not isinstance(regressor_threshold, numbers.Integral)
            or (regressor_threshold < 2)
        ):
            raise ConfigError(
                "acm.regressor_threshold", regressor_threshold, "an int ≥ 2", "the draft uses 50."
            )
        if regressor not in ("gbr", "rf"):
            raise ConfigError(
                "acm.regressor", regressor, "'gbr' or 'rf'", "gradient boosting ('gbr') as in the draft."
            )
        self.grid = {key: tuple(float(v) for v in values) for key, values in (grid or DEFAULT_GRID).items()}
        for key in DEFAULT_GRID:
            if not self.grid.get(key):
                raise ConfigError(
                    f"acm.grid.{key}",
                    self.grid.get(key),
                    "a non-empty list of values",
                    f"e.g. {list(DEFAULT_GRID[key])}.",
                )
        if epochs is not None and (not epochs or any(int(e) < 1 for e in epochs)):
            raise ConfigError("acm.epochs", epochs, "a non-empty list of ints ≥ 1", "or leave it unset.")
        self.k, self.regressor_threshold, self.score_key = int(k), int(regressor_threshold), score_key
        self.default, self.regressor, self.epochs, self.seed = default, regressor, epochs, seed

    # -------------------------------------------------------------------------------------- suggest
    def suggest(self, meta: MetaFeatures, history: Any = None) -> KDConfig:
        """The configuration for ``meta`` given ``history`` (a SOM store or its rows)."""
        return self.explain(meta, history).config

    def explain(self, meta: MetaFeatures, history: Any = None) -> Suggestion:
        """Like :meth:`suggest`, with the method used and its evidence."""
        check_type(
            "acm.meta",
            meta,
            MetaFeatures,
            "a MetaFeatures instance",
            "build it with MetaFeatures.from_data(...).",
        )
        h = _parse_history(history, self.score_key)
        n = len(h.configs)
        if n == 0:
            return Suggestion(self.default, "default", 0)
        knn = self._knn(meta.vector(), h)
        if n < self.regressor_threshold:
            return knn
        return self._regress(meta.vector(), h, knn.config)

    def _knn(self, query: np.ndarray, h: _History) -> Suggestion:
        # group rows into tasks (identical meta-features); each task's best row represents it
        best: dict[tuple, int] = {}
        for i, vec in enumerate(h.meta):
            task = tuple(np.round(vec, 9))
            if task not in best or h.scores[i] > h.scores[best[task]]:
                best[task] = i
        rows = np.array(sorted(best.values()))
        tasks = h.meta[rows]
        mean, std = tasks.mean(axis=0), tasks.std(axis=0)
        std[std < 1e-12] = 1.0  # a feature constant over the history carries no distance
        dist = np.linalg.norm((tasks - mean) / std - (query - mean) / std, axis=1)
        order = np.argsort(dist, kind="stable")[: self.k]
        chosen, d = rows[order], dist[order]
        neighbours = tuple((h.run_ids[i], float(di), float(h.scores[i])) for i, di in zip(chosen, d))
        if d[0] < 1e-9:  # the same task was run before: its best configuration
            return Suggestion(h.configs[chosen[0]], "knn", len(h.configs), neighbours[:1])
        w = (1.0 / d) / (1.0 / d).sum()
        cfg = [h.configs[i] for i in chosen]
        config = KDConfig.clipped(
            temperature=float(np.dot(w, [c.temperature for c in cfg])),
            alpha=float(np.dot(w, [c.alpha for c in cfg])),
            lr=float(10 ** np.dot(w, [math.log10(c.lr) for c in cfg])),  # geometric mean
            epochs=float(np.dot(w, [c.epochs for c in cfg])),
        )
        return Suggestion(config, "knn", len(h.configs), neighbours)

    def _make_regressor(self) -> Any:
        from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor

        if self.regressor == "rf":
            return RandomForestRegressor(
                n_estimators=200, min_samples_leaf=2, random_state=self.seed, n_jobs=1
            )
        return GradientBoostingRegressor(
            n_estimators=200, max_depth=3, learning_rate=0.05, subsample=0.8, random_state=self.seed
        )

    def candidates(self, history_epochs: Iterable[int]) -> list[KDConfig]:
        """The regressor path's candidate grid (every combination of the grid values and epoch counts)."""
        epochs = sorted({int(e) for e in (self.epochs or history_epochs)})
        return [
            KDConfig.clipped(t, a, lr, e)
            for t in self.grid["temperature"]
            for a in self.grid["alpha"]
            for lr in self.grid["lr"]
            for e in epochs
        ]

    def _regress(self, query: np.ndarray, h: _History, anchor: KDConfig) -> Suggestion:
        x = np.hstack([h.meta, np.vstack([c.vector() for c in h.configs])])
        model = self._make_regressor().fit(x, h.scores)
        cands = self.candidates(c.epochs for c in h.configs)
        cand_vec = np.vstack([c.vector() for c in cands])
        pred = model.predict(np.hstack([np.tile(query, (len(cands), 1)), cand_vec]))
        ties = np.flatnonzero(pred >= pred.max() - 1e-9)
        # tree predictions are piecewise constant: among equal predictions, stay closest to the kNN suggestion
        scale = np.array([6.0, 1.0, 3.0, 1.0])  # ranges of (T, α, log10 lr, log epochs)
        gap = np.linalg.norm((cand_vec[ties] - anchor.vector()) / scale, axis=1)
        pick = int(ties[int(np.argmin(gap))])
        return Suggestion(cands[pick], "regressor", len(h.configs), predicted_score=float(pred[pick]))

    # -------------------------------------------------------------------------------------- refine
    @staticmethod
    def candidates_around(config: KDConfig) -> list[KDConfig]:
        """The suggestion and its one-at-a-time neighbours T ± 1, α ± 0.2, lr ×/÷ 3 (clipped, no repeats)."""
        c = config
        raw = [
            (c.temperature, c.alpha, c.lr),
            (c.temperature - 1, c.alpha, c.lr),
            (c.temperature + 1, c.alpha, c.lr),
            (c.temperature, c.alpha - 0.2, c.lr),
            (c.temperature, c.alpha + 0.2, c.lr),
            (c.temperature, c.alpha, c.lr / 3),
            (c.temperature, c.alpha, c.lr * 3),
        ]
        out: list[KDConfig] = []
        for t, a, lr in raw:
            cand = KDConfig.clipped(t, a, lr, c.epochs)
            if cand not in out:
                out.append(cand)
        return out

    @staticmethod
    def refine(candidates: Sequence[KDConfig], evaluate_fn: Callable[[KDConfig], float]) -> RefineResult:
        """Run ``evaluate_fn`` (a short validation run returning a score, higher is better) on every
        candidate and keep the best (the first on ties). A non-finite score counts as the worst, with a
        warning."""
        if not candidates:
            raise ConfigError(
                "acm.refine.candidates",
                [],
                "at least one configuration",
                "pass e.g. AdaptiveConfigManager.candidates_around(suggestion).",
            )
        scored: list[tuple[KDConfig, float]] = []
        for cand in candidates:
            score = float(evaluate_fn(cand))
            if not math.isfinite(score):
                warnings.warn(f"ACM refine: {cand} scored {score}; treated as the worst.", stacklevel=2)
                score = -math.inf
            scored.append((cand, score))
        best_i = max(range(len(scored)), key=lambda i: (scored[i][1], -i))
        return RefineResult(scored[best_i][0], scored[best_i][1], tuple(scored))

    def validate_and_refine(
        self,
        config: KDConfig,
        evaluate_fn: Callable[[KDConfig], float],
        threshold: float,
        epochs: int | None = None,
    ) -> RefineResult:
        """Algorithm 1's tail: QuickValidation of ``config``; below ``threshold``, GridSearchRefinement over
        :meth:`candidates_around`. ``epochs`` (the draft: 10) shortens the validation runs; the returned
        configuration keeps ``config``'s epoch count."""

        def short(c: KDConfig) -> KDConfig:
            return replace(c, epochs=int(epochs)) if epochs is not None else c

        first = float(evaluate_fn(short(config)))
        if math.isfinite(first) and first >= threshold:
            return RefineResult(config, first, ((config, first),))
        around = self.candidates_around(config)[1:]
        result = self.refine([short(c) for c in around], evaluate_fn)
        scored = ((config, first if math.isfinite(first) else -math.inf),) + tuple(
            (replace(c, epochs=config.epochs), s) for c, s in result.scores
        )
        best = max(range(len(scored)), key=lambda i: (scored[i][1], -i))
        return RefineResult(scored[best][0], scored[best][1], scored)


def suggest(meta: MetaFeatures, history: Any = None, **kwargs: Any) -> KDConfig:
    """``AdaptiveConfigManager(**kwargs).suggest(meta, history)``."""
    return AdaptiveConfigManager(**kwargs).suggest(meta, history)
