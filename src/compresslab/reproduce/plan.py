"""A paper's reproduction plan (``papers/<paper>.yaml``) and its expansion into runs.

A plan file::

    paper: learngene                      # the name given to compresslab-reproduce
    description: one paragraph             # printed by --list
    tables: [learngene_ict, ...]           # compresslab-table names written at the end
    vars: {seeds: "1,2,3", ...}            # <name> in a run line is replaced by its value; --seeds sets <seeds>
    overrides: [logger=csv, ...]           # added to every run
    env: {OMP_NUM_THREADS: "1"}            # environment of every run (a variable already set is kept)
    jobs: 1                                # runs of one stage launched at once (--jobs)
    fresh_start: [[compresslab-som, ...]]  # commands run before the first run of an empty reproduction
    smoke: {vars: {...}, overrides: [...]} # --smoke: fewer values, extra overrides
    stages:
      - name: teacher
        run: [experiment=learngene/reduced_teacher]     # a Hydra multirun line: a,b,c sweeps
        jobs: 1                                          # optional, overrides the plan's
        smoke: false                                     # optional: left out of --smoke
        timed: {table: hpmkd_time, row: sweep_n1}        # optional: one timed multirun (see TimedSweep)

Stages run in order; a stage's runs are the cartesian product of its swept overrides, first override outermost
(Hydra's order). ``<log_dir>`` in ``env`` and ``fresh_start`` is the reproduction's log dir. Top-level keys
starting with ``.`` are ignored (they hold YAML anchors shared by stages; nested run lists are flattened).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser

from compresslab.utils.errors import ConfigError

PAPERS_DIR = Path(__file__).parent / "papers"
_VAR = re.compile(r"<(\w+)>")


@dataclass
class TimedSweep:
    """A stage run as one Hydra multirun whose wall time is a table cell (``metrics.json`` with
    ``time/sweep_s`` under ``paper.table = table``, ``paper.row = row``). Redone as a whole when interrupted."""

    table: str
    row: str
    scale: str = "reduced"


@dataclass
class Stage:
    name: str
    run: list[str]
    jobs: int | None = None
    timed: TimedSweep | None = None
    smoke: bool = True  # false: left out of --smoke


@dataclass
class Plan:
    paper: str
    stages: list[Stage]
    description: str = ""
    tables: list[str] = field(default_factory=list)
    vars: dict[str, str] = field(default_factory=dict)
    overrides: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    jobs: int = 1
    fresh_start: list[list[str]] = field(default_factory=list)
    smoke_vars: dict[str, str] = field(default_factory=dict)
    smoke_overrides: list[str] = field(default_factory=list)
    source: Path | None = None


def available_plans() -> dict[str, Path]:
    """Packaged plans: paper name -> file."""
    return {p.stem: p for p in sorted(PAPERS_DIR.glob("*.yaml"))}


def _flatten(items: Any, where: str) -> list[str]:
    if not isinstance(items, list):
        raise ConfigError(where, items, "a list of overrides", "write the run line as a YAML list.")
    out: list[str] = []
    for item in items:
        out.extend(_flatten(item, where) if isinstance(item, list) else [str(item)])
    return out


def _expect(data: dict, key: str, kind: type, where: str, default: Any = None) -> Any:
    value = data.get(key, default)
    if value is not None and not isinstance(value, kind):
        raise ConfigError(f"{where}.{key}", value, f"a {kind.__name__}", f"fix '{key}' in the plan file.")
    return value


def load_plan(name_or_path: str) -> Plan:
    """A packaged plan by paper name, or a plan file by path."""
    plans = available_plans()
    path = plans.get(name_or_path) or Path(name_or_path)
    if not path.is_file():
        raise ConfigError(
            "paper",
            name_or_path,
            f"one of {sorted(plans)} or a plan file (.yaml)",
            "run `compresslab-reproduce --list` for the papers.",
        )
    data = yaml.safe_load(path.read_text()) or {}
    where = str(path)
    known = {
        "paper",
        "description",
        "tables",
        "vars",
        "overrides",
        "env",
        "jobs",
        "fresh_start",
        "smoke",
        "stages",
    }
    if unknown := sorted(k for k in set(data) - known if not str(k).startswith(".")):  # .x: YAML anchors
        raise ConfigError(f"{where}: {unknown[0]}", data[unknown[0]], f"one of the keys {sorted(known)}")
    stages = []
    for i, raw in enumerate(_expect(data, "stages", list, where) or []):
        w = f"{where}: stages[{i}]"
        if not isinstance(raw, dict) or "name" not in raw or "run" not in raw:
            raise ConfigError(
                w, raw, "a mapping with 'name' and 'run'", "give every stage a name and a run line."
            )
        timed = _expect(raw, "timed", dict, w)
        stages.append(
            Stage(
                name=str(raw["name"]),
                run=_flatten(raw["run"], f"{w}.run"),
                jobs=_expect(raw, "jobs", int, w),
                timed=TimedSweep(**timed) if timed else None,
                smoke=_expect(raw, "smoke", bool, w, True),
            )
        )
    if not stages:
        raise ConfigError(
            f"{where}: stages", None, "at least one stage", "list the stages of the reproduction."
        )
    names = [s.name for s in stages]
    if len(set(names)) != len(names):
        raise ConfigError(f"{where}: stages", names, "unique stage names", "rename the duplicate stage.")
    smoke = _expect(data, "smoke", dict, where, {}) or {}
    return Plan(
        paper=str(data.get("paper") or path.stem),
        stages=stages,
        description=str(data.get("description", "")).strip(),
        tables=[str(t) for t in _expect(data, "tables", list, where, [])],
        vars={k: str(v) for k, v in (_expect(data, "vars", dict, where, {}) or {}).items()},
        overrides=_flatten(data.get("overrides", []), f"{where}: overrides"),
        env={k: str(v) for k, v in (_expect(data, "env", dict, where, {}) or {}).items()},
        jobs=_expect(data, "jobs", int, where, 1),
        fresh_start=[
            _flatten(c, f"{where}: fresh_start") for c in _expect(data, "fresh_start", list, where, [])
        ],
        smoke_vars={k: str(v) for k, v in (smoke.get("vars") or {}).items()},
        smoke_overrides=_flatten(smoke.get("overrides", []), f"{where}: smoke.overrides"),
        source=path,
    )


def select_stages(plan: Plan, patterns: str) -> Plan:
    """``plan`` with only the stages whose name matches one of the comma-separated glob ``patterns``. A subset
    never runs the plan's ``fresh_start`` commands (they would reset state the other stages' runs wrote)."""
    wanted = [p.strip() for p in patterns.split(",") if p.strip()]
    stages = [s for s in plan.stages if any(fnmatch.fnmatchcase(s.name, p) for p in wanted)]
    unmatched = [p for p in wanted if not any(fnmatch.fnmatchcase(s.name, p) for s in plan.stages)]
    if not wanted or unmatched:
        raise ConfigError(
            "--stages",
            patterns,
            f"names or glob patterns of {plan.paper}'s stages: {', '.join(s.name for s in plan.stages)}",
            f"{', '.join(unmatched) or 'an empty list'} matches no stage",
        )
    return dataclasses.replace(plan, stages=stages, fresh_start=[])


def substitute(text: str, values: dict[str, str], where: str) -> str:
    """``text`` with every ``<name>`` replaced by ``values[name]``."""

    def repl(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            raise ConfigError(
                where, text, f"a variable among {sorted(values)}", f"add '{name}' to the plan's vars."
            )
        return values[name]

    return _VAR.sub(repl, text)


def expand(line: list[str]) -> list[list[str]]:
    """The runs of a multirun line: the cartesian product of its sweeps (``k=a,b``), first override outermost,
    as Hydra's basic sweeper orders them. Overrides that sweep nothing are kept as written."""
    parsed = OverridesParser.create().parse_overrides(line)
    choices = []
    for text, override in zip(line, parsed):
        if override.is_sweep_override():
            key = override.get_key_element()
            choices.append([f"{key}={value}" for value in override.sweep_string_iterator()])
        else:
            choices.append([text])
    return [list(run) for run in itertools.product(*choices)]


def slug(overrides: list[str]) -> str:
    """A run-dir name from a run's overrides: ``<last key part>-<value>`` joined by ``__`` (``experiment=`` left out:
    the stage names it). The identity check, not the name, decides whether a run there is the planned one."""
    parts = []
    for override in overrides:
        key, _, value = override.lstrip("+~").partition("=")
        if key != "experiment":
            parts.append(f"{key.rsplit('.', 1)[-1]}-{value}")
    text = re.sub(r"[^A-Za-z0-9._+-]", "_", "__".join(parts) or "default")
    if len(text) > 120:  # file-name limits: keep the start readable, the end unique
        text = f"{text[:100]}..{hashlib.sha256(text.encode()).hexdigest()[:8]}"
    return text
