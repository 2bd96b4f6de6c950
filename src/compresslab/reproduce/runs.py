"""A plan's runs, each with its run dir, resolved config and identity (composed with Hydra, as the CLI would).

A run whose experiment fixes its run dir (teachers, ICT phases, SRNet stages: later stages read them there) keeps
it; any other run gets ``<log_dir>/reproduce/<paper>/<stage>/<its overrides>``, so that an interrupted
reproduction finds it again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, OmegaConf, open_dict

from compresslab.reproduce.identity import Finding, config_hash
from compresslab.reproduce.plan import Plan, Stage, expand, slug, substitute
from compresslab.utils.hydra_app import prepare_hydra
from compresslab.utils.run_dir import run_id


@dataclass
class PlannedRun:
    """One ``compresslab-train`` launch of a plan (or, for a timed stage, one whole multirun)."""

    stage: Stage
    #: the run's own overrides (a timed stage: its multirun line); the plan's and the user's come first
    overrides: list[str]
    run_dir: Path
    fixed_dir: bool
    table: str
    row: str
    identity: str
    config: dict[str, Any]
    #: the overrides that tell it from the other runs of its stage (its sweeps and <variables>)
    varying: list[str] = field(default_factory=list)
    finding: Finding | None = None

    @property
    def label(self) -> str:
        return f"{self.stage.name}: {' '.join(self.varying) or '(one run)'}"


@dataclass
class Settings:
    """What a reproduction is run with: the plan's variables and overrides, after --smoke/--seeds and extras."""

    log_dir: Path
    smoke: bool
    vars: dict[str, str]
    common: list[str]  # plan overrides (+ smoke overrides) + paths.log_dir
    extra: list[str]  # the user's overrides, last


def quoted(path: Path) -> str:
    """``path`` as a quoted Hydra override value (spaces, ``=`` and ``,`` allowed)."""
    return "'" + str(path).replace("\\", "\\\\").replace("'", "\\'") + "'"


def settings_for(
    plan: Plan, log_dir: Path, smoke: bool, seeds: str | None, extra: list[str], smoke_overrides: list[str]
) -> Settings:
    values = {**plan.vars, **(plan.smoke_vars if smoke else {})}
    if seeds is not None:
        if "seeds" not in values:
            raise ValueError(
                f"--seeds {seeds}: the {plan.paper} plan has no <seeds> variable; its vars: {sorted(values)}"
            )
        values["seeds"] = seeds
    common = [
        *plan.overrides,
        *(smoke_overrides + plan.smoke_overrides if smoke else []),
        f"paths.log_dir={quoted(log_dir)}",
    ]
    return Settings(log_dir=log_dir, smoke=smoke, vars=values, common=common, extra=list(extra))


def apply_env(plan: Plan, log_dir: Path) -> None:
    """The plan's environment, for this process (composition reads ``oc.env``) and every run it launches; a
    variable already set by the user wins."""
    for key, value in plan.env.items():
        os.environ.setdefault(key, value.replace("<log_dir>", str(log_dir)))


@contextmanager
def hydra_context() -> Iterator[None]:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=prepare_hydra(), version_base="1.3"):
        yield
    GlobalHydra.instance().clear()


def resolved_config(cfg: DictConfig, run_dir: Path) -> dict[str, Any]:
    """The config as the run will write it into ``metrics.json`` (resolved; ``paths.output_dir`` = ``run_dir``)."""
    cfg = cfg.copy()
    with open_dict(cfg):
        cfg.paths.output_dir = str(run_dir)
        cfg.paths.work_dir = os.getcwd()
        del cfg["hydra"]
    return OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)  # type: ignore[return-value]


def plan_runs(plan: Plan, settings: Settings) -> list[PlannedRun]:
    """Every run of ``plan`` in launch order (composes each config: about half a second per run)."""
    runs: list[PlannedRun] = []
    with hydra_context():
        for stage in plan.stages:
            if settings.smoke and not stage.smoke:
                continue
            line = [substitute(o, settings.vars, f"{plan.paper}: stage {stage.name}") for o in stage.run]
            if stage.timed is not None:
                runs.append(_timed_run(plan, stage, line, settings))
                continue
            # the run-dir name comes from the overrides that differ between runs: sweeps and <variables>
            naming = [i for i, o in enumerate(stage.run) if "<" in o or "," in o]
            for overrides in expand(line):
                cfg = compose(
                    "train",
                    overrides=[*settings.common, *overrides, *settings.extra],
                    return_hydra_config=True,
                )
                # a named run (paths.run_name) or a hand-written hydra.run.dir: the same folder on every launch
                fixed = run_id() not in str(cfg.hydra.run.dir)
                run_dir = (
                    Path(cfg.hydra.run.dir).absolute()
                    if fixed
                    else settings.log_dir
                    / "reproduce"
                    / plan.paper
                    / stage.name
                    / slug([overrides[i] for i in naming])
                )
                config = resolved_config(cfg, run_dir)
                paper = config.get("paper") or {}
                runs.append(
                    PlannedRun(
                        stage=stage,
                        overrides=overrides,
                        run_dir=run_dir,
                        fixed_dir=fixed,
                        table=str(paper.get("table") or ""),
                        row=str(paper.get("row") or ""),
                        identity=config_hash(config),
                        config=config,
                        varying=[overrides[i] for i in naming],
                    )
                )
    return runs


def _timed_run(plan: Plan, stage: Stage, line: list[str], settings: Settings) -> PlannedRun:
    assert stage.timed is not None
    identity_of = {
        "line": line,
        "extra": settings.extra,
        "common": [o for o in settings.common if "log_dir" not in o],
    }
    return PlannedRun(
        stage=stage,
        overrides=line,
        run_dir=settings.log_dir / "reproduce" / plan.paper / stage.name,
        fixed_dir=True,
        table=stage.timed.table,
        row=stage.timed.row,
        identity=hashlib.sha256(json.dumps(identity_of, sort_keys=True).encode()).hexdigest()[:12],
        config={"paper": {"name": plan.paper}},
        varying=[o for o, raw in zip(line, stage.run) if "<" in raw or "," in raw],
    )
