"""ACM's inputs: the configuration it chooses (:class:`KDConfig`, clipped to the draft's ranges) and the
meta-features φ(D, f_T, f_S) of a distillation task (:class:`MetaFeatures`, draft §4.2.1). The manager that
maps one to the other is :mod:`compresslab.hpmkd.config_manager`."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
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
