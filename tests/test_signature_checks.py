"""The signature layer's one-argument rules (types, ``Literal`` choices, ``Range`` bounds), applied to ``_target_``
nodes at config time and to objects built in code with ``check_arguments``."""

from __future__ import annotations

import math
from typing import Annotated, Literal, Optional

import numpy as np
import pytest

from compresslab.utils.config import Range, check_arguments, validate_targets
from compresslab.utils.errors import ConfigError


def target(
    n: Annotated[int, Range(ge=1)],
    p: Annotated[float, Range(gt=0, lt=1, hint="e.g. 0.1")] = 0.1,
    mode: Literal["a", "b"] = "a",
    floor: Annotated[float, Range()] = 0.0,
    opt: Optional[Annotated[float, Range(ge=0)]] = None,  # noqa: UP045 - the form configs use
) -> None:
    """A callable whose annotations declare one rule per argument."""


def test_valid_arguments_pass():
    check_arguments(target, {"n": 3, "p": 0.5, "mode": "b", "floor": -2.0, "opt": None}, "x")
    check_arguments(target, {"n": np.int64(2), "p": np.float32(0.25), "opt": 0.0}, "x")  # numpy scalars


@pytest.mark.parametrize(
    ("arguments", "key", "expected"),
    [
        ({"n": 0}, "x.n", "an int ≥ 1"),
        ({"n": True}, "x.n", "a value of type int"),
        ({"n": 2.5}, "x.n", "a value of type int"),
        ({"p": 1.0}, "x.p", "a float in (0, 1)"),
        ({"p": 0}, "x.p", "a float in (0, 1)"),
        ({"p": math.inf}, "x.p", "a float in (0, 1)"),
        ({"mode": "c"}, "x.mode", "one of 'a', 'b'"),
        ({"floor": -math.inf}, "x.floor", "a finite float"),
        ({"opt": -1.0}, "x.opt", "a finite float ≥ 0"),
    ],
)
def test_a_broken_rule_names_key_value_and_fix(arguments, key, expected):
    with pytest.raises(ConfigError) as info:
        check_arguments(target, {"n": 1, **arguments}, "x")
    value = arguments[key.removeprefix("x.")]
    assert (info.value.key, info.value.value) == (key, value)
    assert f"config key '{key}': got {value!r}, expected {expected} (for target)" in str(info.value)
    assert f"Fix: set {key} to {expected}" in str(info.value)


def test_nan_is_outside_every_range_and_the_hint_ends_the_fix():
    with pytest.raises(ConfigError) as info:
        check_arguments(target, {"n": 1, "p": math.nan}, "x")
    assert info.value.key == "x.p" and math.isnan(info.value.value)
    assert str(info.value).endswith("Fix: set x.p to a float in (0, 1) (e.g. 0.1).")


def test_the_first_broken_argument_in_signature_order_is_reported():
    with pytest.raises(ConfigError) as info:
        check_arguments(target, {"mode": "c", "p": 2.0, "n": 0}, "x")
    assert (info.value.key, info.value.value) == ("x.n", 0)


def test_target_nodes_get_the_same_rules_at_config_time():
    node = {"_target_": f"{__name__}.target", "n": 1, "p": 1.5}
    with pytest.raises(ConfigError) as info:
        validate_targets({"model": node})
    assert (info.value.key, info.value.value) == ("model.p", 1.5)
    assert f"expected a float in (0, 1) (for {__name__}.target)" in str(info.value)
    validate_targets({"model": {**node, "p": 0.5}})
