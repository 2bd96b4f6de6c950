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
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from compresslab.utils.errors import ConfigError

T0_RANGE = (2.0, 8.0)
ALPHA_RANGE = (0.0, 1.0)
LR_RANGE = (1e-5, 1e-2)

#: default candidate grid of the regressor path (epochs come from the history unless given)
DEFAULT_GRID: dict[str, tuple[float, ...]] = {
    "temperature": (2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0),
    "alpha": tuple(round(a, 1) for a in np.linspace(0.0, 1.0, 11)),
    "lr": (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2),
}


def _real(key: str, value: Any, fix: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise ConfigError(key, value, "a finite number", fix)
    return float(value)


def _in_range(key: str, value: Any, lo: float, hi: float, fix: str) -> float:
    v = _real(key, value, fix)
    if not lo <= v <= hi:
        raise ConfigError(key, value, f"a value in [{lo:g}, {hi:g}]", fix)
    return v


# ------------------------------------------------------------------------------------------ configuration
@dataclass(frozen=True)
class KDConfig:
    """c = (T₀, α, lr, epochs); α weights the KD term: L = α·KL + (1 − α)·CE.

    Construction validates strictly (a user's out-of-range value is an error); :meth:`clipped` builds a config
    from raw numbers (a regressor's or an average's output) by clipping into range.
    """

    temperature: float
    alpha: float
    lr: float
    epochs: int

    def __post_init__(self) -> None:
        t = _in_range(
            "acm.temperature", self.temperature, *T0_RANGE, "pick an initial temperature T0 in [2, 8]."
        )
        a = _in_range(
            "acm.alpha", self.alpha, *ALPHA_RANGE, "α weights KL against CE; use a value in [0, 1]."
        )
        lr = _in_range("acm.lr", self.lr, *LR_RANGE, "use a learning rate in [1e-5, 1e-2].")
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, numbers.Integral) or self.epochs < 1:
            raise ConfigError("acm.epochs", self.epochs, "an int ≥ 1", "give the number of training epochs.")
        for name, value in (("temperature", t), ("alpha", a), ("lr", lr), ("epochs", int(self.epochs))):
            object.__setattr__(self, name, value)

    @classmethod
    def clipped(cls, temperature: float, alpha: float, lr: float, epochs: float) -> KDConfig:
        """Clip raw values into the ACM ranges; epochs are rounded and at least 1."""
        values = {"temperature": temperature, "alpha": alpha, "lr": lr, "epochs": epochs}
        for key, value in values.items():
            _real(f"acm.{key}", value, "the value to clip must be a finite number.")
        return cls(
            temperature=min(max(float(temperature), T0_RANGE[0]), T0_RANGE[1]),
            alpha=min(max(float(alpha), ALPHA_RANGE[0]), ALPHA_RANGE[1]),
            lr=min(max(float(lr), LR_RANGE[0]), LR_RANGE[1]),
            epochs=max(1, round(float(epochs))),
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], clip: bool = True) -> KDConfig:
        """From a stored config row; accepts ``T``/``t0`` for the temperature and ``learning_rate`` for lr."""
        t = next((d[k] for k in ("temperature", "T", "t0") if k in d), None)
        lr = next((d[k] for k in ("lr", "learning_rate") if k in d), None)
        if t is None or lr is None or "alpha" not in d or "epochs" not in d:
            raise KeyError("a config needs temperature (or T/t0), alpha, lr (or learning_rate) and epochs")
        raw = (t, d["alpha"], lr, d["epochs"])
        return cls.clipped(*raw) if clip else cls(float(t), float(d["alpha"]), float(lr), int(d["epochs"]))

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)

    def vector(self) -> np.ndarray:
        """Numeric encoding for the regressor: (T, α, log10 lr, log epochs)."""
        return np.array([self.temperature, self.alpha, math.log10(self.lr), math.log(self.epochs)])


#: the empty-history configuration (see the module docstring)
DEFAULT_CONFIG = KDConfig(temperature=4.0, alpha=0.7, lr=1e-3, epochs=150)


# ----------------------------------------------------------------------------------------- meta-features
def _count(model_or_count: Any) -> int:
    if hasattr(model_or_count, "parameters"):
        return int(sum(p.numel() for p in model_or_count.parameters()))
    return int(model_or_count)


@dataclass(frozen=True)
class MetaFeatures:
    """Meta-features φ(D, f_T, f_S) of one distillation task (draft §4.2.1).

    Attributes:
        n_samples: training samples N.
        n_classes: classes K (≥ 2).
        input_dim: input dimensionality d (the product of the input shape).
        imbalance: ρ = max_k p_k / min_k p_k over the classes present (1 = balanced).
        label_entropy: C_D = −Σ p_k log p_k in nats.
        teacher_params, student_params: |θ_T|, |θ_S|.
        teacher_accuracy: Acc_T in [0, 1].
        compression_ratio: r = |θ_T| / |θ_S| (computed when omitted).
    """

    n_samples: int
    n_classes: int
    input_dim: int
    imbalance: float
    label_entropy: float
    teacher_params: int
    student_params: int
    teacher_accuracy: float
    compression_ratio: float | None = field(default=None)

    #: names of :meth:`vector`'s entries
    FEATURES = (
        "log_n_samples",
        "log_n_classes",
        "log_input_dim",
        "log_imbalance",
        "label_entropy_normalised",
        "log_teacher_params",
        "log_student_params",
        "log_compression_ratio",
        "teacher_accuracy",
    )

    def __post_init__(self) -> None:
        def count(key: str, value: Any, low: int, what: str) -> None:
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
                raise ConfigError(f"acm.meta.{key}", value, f"an int ≥ {low}", what)

        count("n_samples", self.n_samples, 1, "the number of training samples.")
        count("n_classes", self.n_classes, 2, "a classification task has at least 2 classes.")
        count("input_dim", self.input_dim, 1, "the product of the input shape, e.g. 3·32·32 = 3072.")
        count("teacher_params", self.teacher_params, 1, "the teacher's parameter count.")
        count("student_params", self.student_params, 1, "the student's parameter count.")
        imb = _real("acm.meta.imbalance", self.imbalance, "max_k p_k / min_k p_k, ≥ 1.")
        if imb < 1:
            raise ConfigError(
                "acm.meta.imbalance", self.imbalance, "a ratio ≥ 1", "use max_k p_k / min_k p_k."
            )
        ent = _real("acm.meta.label_entropy", self.label_entropy, "−Σ p_k log p_k in nats.")
        if not 0 <= ent <= math.log(self.n_classes) + 1e-9:
            raise ConfigError(
                "acm.meta.label_entropy",
                self.label_entropy,
                f"a value in [0, log K = {math.log(self.n_classes):.4f}]",
                "compute −Σ p_k log p_k with natural logs over the class frequencies.",
            )
        _in_range(
            "acm.meta.teacher_accuracy", self.teacher_accuracy, 0.0, 1.0, "give accuracy as a fraction."
        )
        ratio = self.teacher_params / self.student_params
        if self.compression_ratio is None:
            object.__setattr__(self, "compression_ratio", ratio)
        else:
            r = _real("acm.meta.compression_ratio", self.compression_ratio, "|θ_T| / |θ_S|.")
            if r <= 0:
                raise ConfigError("acm.meta.compression_ratio", r, "a ratio > 0", "|θ_T| / |θ_S|.")
            object.__setattr__(self, "compression_ratio", r)

    @classmethod
    def from_data(
        cls,
        labels: Any,
        input_shape: Sequence[int] | int,
        teacher: Any,
        student: Any,
        teacher_accuracy: float,
        n_classes: int | None = None,
    ) -> MetaFeatures:
        """Compute the meta-features from the training labels, the input shape and the two models.

        ``teacher``/``student`` are ``nn.Module`` instances or parameter counts. ``n_classes`` defaults to the
        number of distinct labels; ρ and C_D are computed over the classes that occur.
        """
        y = np.asarray(labels.cpu() if hasattr(labels, "cpu") else labels).reshape(-1)
        if y.size == 0:
            raise ConfigError(
                "acm.meta.labels", "[]", "at least one label", "pass the training split's labels."
            )
        if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
            raise ConfigError(
                "acm.meta.labels", y.dtype, "non-negative integer class ids", "encode labels as 0..K−1."
            )
        counts = np.bincount(y)
        present = counts[counts > 0]
        p = present / present.sum()
        k = int(n_classes) if n_classes is not None else int(present.size)
        if k < y.max() + 1 and n_classes is not None:
            raise ConfigError(
                "acm.meta.n_classes",
                n_classes,
                f"≥ {int(y.max()) + 1} (the largest label + 1)",
                "set n_classes to the model's output size.",
            )
        dim = int(np.prod(input_shape)) if not isinstance(input_shape, int) else int(input_shape)
        return cls(
            n_samples=int(y.size),
            n_classes=k,
            input_dim=dim,
            imbalance=float(present.max() / present.min()),
            label_entropy=float(-(p * np.log(p)).sum()),
            teacher_params=_count(teacher),
            student_params=_count(student),
            teacher_accuracy=float(teacher_accuracy),
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MetaFeatures:
        """From a stored row (extra keys are ignored)."""
        names = [f for f in cls.__dataclass_fields__ if f != "FEATURES"]
        return cls(**{k: d[k] for k in names if k in d})

    def vector(self) -> np.ndarray:
        """Numeric encoding (:attr:`FEATURES`): logs of counts and ratios, entropy divided by log K."""
        assert self.compression_ratio is not None
        return np.array(
            [
                math.log(self.n_samples),
                math.log(self.n_classes),
                math.log(self.input_dim),
                math.log(self.imbalance),
                self.label_entropy / math.log(self.n_classes),
                math.log(self.teacher_params),
                math.log(self.student_params),
                math.log(self.compression_ratio),
                self.teacher_accuracy,
            ]
        )


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
        if not isinstance(meta, MetaFeatures):
            raise ConfigError(
                "acm.meta",
                type(meta).__name__,
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
