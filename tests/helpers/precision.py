"""The precision matrix: one experiment of every family, one fast-dev-run step under a given precision.

Used by ``tests/test_precision.py`` (bf16-mixed on CPU, and on CUDA where a device exists). Predecessor runs
that an experiment loads (teachers, an ICT phase, a fine-tuned PLM) are written here as *fake runs*: the
predecessor experiment's ``model.net`` freshly initialised, saved as ``config_resolved.yaml`` +
``checkpoints/last.ckpt`` exactly where the experiment looks for it — dtype paths do not need trained weights.
"""

from __future__ import annotations

import math
from pathlib import Path

import hydra
import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from omegaconf import DictConfig, OmegaConf

from tests.helpers.compose import FAST, compose_cfg

#: family -> (experiment overrides, predecessor runs as (experiment, seed, run dir relative to log_dir))
FAMILIES: dict[str, tuple[list[str], list[tuple[list[str], str]]]] = {
    "classifier": (["data=digits"], []),
    "learngene_ict": (
        ["experiment=learngene/reduced_ict_phase1"],
        [(["experiment=learngene/reduced_teacher"], "learngene_reduced/teacher")],
    ),
    "learngene_finetune": (
        ["experiment=learngene/reduced_finetune", "seed=1", "model.net.depth=3", "model.net.k=4"],
        [
            (
                ["experiment=learngene/reduced_ict_phase4", "seed=1"],
                "learngene_reduced/ict_chebyshev/seed1/phase4",
            )
        ],
    ),
    "hpmkd": (
        ["experiment=hpmkd/digits", "model.components.pdc=false"],
        [(["experiment=hpmkd/digits_teacher"], f"hpmkd/teachers/digits8/seed{s}") for s in range(3)],
    ),
    "srnet_finetune": (["experiment=srnet/reduced_finetune"], []),
    "srnet_mask": (
        [
            "experiment=srnet/reduced_mask",
            "model.loss=ce",
            "model.bias_file=null",
            "model.bias_features=null",
        ],
        [(["experiment=srnet/reduced_finetune", "seed=1"], "srnet_reduced/finetune_ce/seed1")],
    ),
    "srnet_imp": (
        ["experiment=srnet/reduced_imp", "model.bias_file=null", "model.bias_features=null"],
        [(["experiment=srnet/reduced_finetune", "seed=1"], "srnet_reduced/finetune_ce/seed1")],
    ),
    "rnnpool": (["experiment=rnnpool/table2_reduced"], []),
    "renet_layer": (["experiment=rnnpool/table2_reduced", "model.net.downsample=renet"], []),
    # the paper's ReNet widths (GRUs of 320/320/256) take minutes per bf16 step on CPU; the dtype path is the same
    "renet_classifier": (
        [
            "model=rnnpool/renet_classifier",
            "data=digits",
            "model.net.fc_sizes=[64]",
            "model.net.hidden_sizes=[16,16,16]",
        ],
        [],
    ),
}


def write_fake_run(run_dir: Path, cfg: DictConfig) -> None:
    """A run directory holding ``cfg.model.net`` at its initialisation (what ``load_run_net`` reads)."""
    if "init_from" in cfg.model.net:  # as load_run_net: the checkpoint supersedes what the run started from
        cfg.model.net.init_from = None
    net = hydra.utils.instantiate(cfg.model.net)
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    OmegaConf.save(cfg, run_dir / "config_resolved.yaml", resolve=True)
    state = {f"net.{k}": v for k, v in net.state_dict().items()}
    torch.save({"state_dict": state}, run_dir / "checkpoints" / "last.ckpt")


class FiniteCheck(Callback):
    """Records that every training loss and every gradient of a trainable parameter was finite."""

    def __init__(self) -> None:
        self.losses: list[float] = []
        self.grad_norms: list[float] = []
        self.param_dtypes: set[torch.dtype] = set()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:  # noqa: ANN001
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        self.losses.append(float(loss))

    def on_before_optimizer_step(self, trainer, pl_module: LightningModule, optimizer) -> None:  # noqa: ANN001
        grads = [p.grad for p in pl_module.parameters() if p.requires_grad and p.grad is not None]
        self.param_dtypes |= {p.dtype for p in pl_module.parameters() if p.requires_grad}
        self.grad_norms.append(
            float(torch.linalg.vector_norm(torch.stack([g.float().norm() for g in grads])))
        )

    def assert_finite(self, family: str) -> None:
        assert self.losses, f"{family}: no training step ran"
        assert self.grad_norms, f"{family}: no optimizer step ran (no gradient)"
        assert all(math.isfinite(v) for v in self.losses), f"{family}: losses {self.losses}"
        assert all(math.isfinite(v) and v > 0 for v in self.grad_norms), (
            f"{family}: grad norms {self.grad_norms}"
        )
        # mixed precision keeps the master weights in fp32
        assert self.param_dtypes == {torch.float32}, (
            f"{family}: trainable parameter dtypes {self.param_dtypes}"
        )


def compose_family(family: str, logs: Path, extra: list[str] = ()) -> DictConfig:
    """The family's experiment config, its predecessors written as fake runs under ``logs``."""
    overrides, predecessors = FAMILIES[family]
    common = ["logger=none", *FAST, f"paths.log_dir={logs}", "data.num_workers=0", "data.batch_size=8"]
    for pre_overrides, rel in predecessors:
        pre = compose_cfg("train", [*common, *pre_overrides], logs / "_compose" / rel)
        write_fake_run(logs / rel, pre)
    return compose_cfg("train", [*common, *overrides, *extra], logs / "_run" / family)


def fast_dev_run(cfg: DictConfig, accelerator: str, precision: str) -> FiniteCheck:
    """One training batch (+ one val/test batch) of ``cfg``'s data and model under ``precision``."""
    datamodule = hydra.utils.instantiate(cfg.data)
    model = hydra.utils.instantiate(cfg.model)
    check = FiniteCheck()
    trainer = Trainer(
        accelerator=accelerator,
        devices=1,
        precision=precision,
        fast_dev_run=True,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        use_distributed_sampler=False,
        gradient_clip_val=cfg.trainer.get("gradient_clip_val"),
        callbacks=[check],
        default_root_dir=str(cfg.paths.output_dir),
    )
    trainer.fit(model, datamodule=datamodule)
    trainer.test(model, datamodule=datamodule, verbose=False)
    return check
