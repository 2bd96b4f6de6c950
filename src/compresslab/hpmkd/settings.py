"""HPMKDModule's settings: the component switches and the defaults of every settings section (one place; the
config files set only what an experiment changes), and the checks that turn a config section into plain values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from omegaconf import DictConfig, ListConfig, OmegaConf
from torch import nn

from compresslab.utils.errors import ConfigError, check_type
from compresslab.utils.logging import get_logger

log = get_logger(__name__)


COMPONENTS = ("acm", "pdc", "awmt", "mts", "ppp", "som")

DEFAULTS: dict[str, dict[str, Any]] = {
    "components": dict.fromkeys(COMPONENTS, True),
    "acm": {
        "k": 5,
        "regressor_threshold": 50,
        "score_key": "retention",
        "refine": True,
        "refine_epochs": 10,
        "threshold": 0.98,
    },
    "mts": {
        "spread": 0.5,
        "strategy": "auto",
        "probe_fraction": 0.1,
        "blend_fraction": 0.05,
        "update_every": 1,
    },
    "awmt": {
        "hidden": 128,
        "dropout": 0.2,
        "beta": 0.01,
        "embed_dim": 16,
        "pool": 8,
        "use_teacher_outputs": False,
    },
    "chain": {
        "steps": 3,
        "epsilon": 0.01,
        "mode": "width",
        "depths": None,
        "epochs": None,
        "probe_epochs": None,
        "batch_size": None,
        "shared_seed": None,
    },
    "fitnets": {"hint_epochs": 0, "hint_weight_kd": 0.0},
    "dml": {"temperature": 1.0},
}


def _plain(value: Any) -> Any:
    if isinstance(value, DictConfig | ListConfig):
        return OmegaConf.to_container(value, resolve=True)
    return value


def _section(name: str, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults of one settings section updated by ``given``; unknown keys are errors naming the closest key."""
    given = dict(_plain(given) or {})
    known = DEFAULTS[name]
    for key in given:
        if key not in known:
            import difflib

            close = difflib.get_close_matches(key, known, n=1)
            raise ConfigError(
                f"model.{name}.{key}",
                given[key],
                f"one of the keys {sorted(known)}",
                f"did you mean '{close[0]}'?" if close else "remove it.",
            )
    return {**known, **given}


def _teacher_list(teachers: Any) -> list[nn.Module]:
    if teachers is None:
        return []
    if isinstance(teachers, nn.Module):
        return [teachers]
    out = list(teachers)
    for i, t in enumerate(out):
        check_type(
            f"model.teachers[{i}]",
            t,
            nn.Module,
            "a network (nn.Module), e.g. {_target_: compresslab.models.load_run_net, run_dir: ...}",
            "build each teacher from config.",
        )
    return out


def check_class_counts(
    net: nn.Module, teachers: Sequence[nn.Module], input_shape: Sequence[int] | None, num_classes: int
) -> None:
    """The student and every teacher accept ``input_shape`` and output ``num_classes`` logits, else a ConfigError
    naming the network's key."""
    if input_shape is None:
        return
    x = torch.zeros(2, *input_shape)
    named = [("model.net", net)] + [(f"model.teachers[{i}]", t) for i, t in enumerate(teachers)]
    for key, model in named:
        was = model.training
        model.eval()
        with torch.no_grad():
            try:
                out = model(x)
            except RuntimeError as err:
                raise ConfigError(
                    key,
                    type(model).__name__,
                    f"a network that accepts inputs of shape {list(input_shape)} (model.input_shape)",
                    f"check the network's input size ({err}).",
                ) from err
        model.train(was)
        if out.shape[-1] != num_classes:
            raise ConfigError(
                key,
                f"{type(model).__name__} with {out.shape[-1]} outputs",
                f"{num_classes} outputs (model.num_classes, the data's classes)",
                "use a teacher trained on the same label set as the student (same data config).",
            )
