"""Compose a top-level Hydra config in-process, as the CLI would, with the run directory under a test's tmp dir."""

from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from compresslab.utils.hydra_app import prepare_hydra

#: overrides for quick in-process runs: no config print, no progress bar, no model summary, a short latency probe
FAST = [
    "extras.print_config=false",
    "callbacks.rich_progress_bar=null",
    "callbacks.model_summary=null",
    "measure.latency_repeats=2",
    "measure.latency_warmup=0",
]


def compose_cfg(
    config_name: str, overrides: list[str], output_dir: Path, with_hydra: bool = True
) -> DictConfig:
    """Compose a top-level config as the CLI would, with the run dir at ``output_dir``."""
    GlobalHydra.instance().clear()
    where = [f"hydra.run.dir={output_dir}", f"paths.output_dir={output_dir}", f"paths.work_dir={output_dir}"]
    with initialize_config_dir(config_dir=prepare_hydra(), version_base="1.3"):
        cfg = compose(config_name=config_name, overrides=[*where, *overrides], return_hydra_config=with_hydra)
    if with_hydra:
        HydraConfig.instance().set_config(cfg)
        with open_dict(cfg):
            del cfg.hydra
    output_dir.mkdir(parents=True, exist_ok=True)
    return cfg
