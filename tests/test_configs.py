"""Every config composes; typos and wrong types fail before any work, naming the key."""

from __future__ import annotations

from pathlib import Path

import hydra
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import ConfigCompositionException, MissingConfigException
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import ConfigKeyError, ValidationError

from compresslab.train import build, validate
from compresslab.utils.errors import ConfigError, DataError
from compresslab.utils.hydra_app import CONF_DIR, prepare_hydra
from compresslab.utils.run_dir import run_id

DATA = sorted(
    str(p.relative_to(CONF_DIR / "data").with_suffix("")) for p in (CONF_DIR / "data").rglob("*.yaml")
)
MODELS = sorted(
    str(p.relative_to(CONF_DIR / "model").with_suffix(""))
    for p in (CONF_DIR / "model").rglob("*.yaml")
    if not p.name.startswith("_")  # _*.yaml are shared fragments, not selectable models
)
TRAINERS = sorted(p.stem for p in (CONF_DIR / "trainer").glob("*.yaml"))
EXPERIMENTS = sorted(
    str(p.relative_to(CONF_DIR / "experiment").with_suffix(""))
    for p in (CONF_DIR / "experiment").rglob("*.yaml")
)


@pytest.mark.parametrize("data", DATA)
def test_every_data_config_composes_and_validates(train_cfg, data):
    model = "mlp" if data.startswith("tabular/") else "classifier"
    cfg = train_cfg([f"data={data}", f"model={model}"])
    validate(cfg)
    dm = hydra.utils.instantiate(cfg.data)  # constructing never touches the disk
    assert list(dm.input_shape) == list(cfg.data.input_shape)


@pytest.mark.parametrize("trainer", TRAINERS)
def test_every_trainer_config_validates(train_cfg, trainer):
    validate(train_cfg([f"trainer={trainer}"]))


class Composed(dict):
    """Experiment name → its config composed as the CLI would (Hydra's node included, logs under /logs); the plain
    config under the key ''. Each is composed on first use (``everything()``: all of them), so a test that reads
    two experiments does not pay for the hundred others on its xdist worker."""

    def __missing__(self, experiment: str) -> DictConfig:
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=prepare_hydra(), version_base="1.3"):
            cfg = compose(
                "train",
                [*([f"experiment={experiment}"] if experiment else []), "paths.log_dir=/logs"],
                return_hydra_config=True,
            )
        GlobalHydra.instance().clear()
        with open_dict(cfg):
            cfg.hydra.job.num = 3  # what the fourth job of a multirun gets
        self[experiment] = cfg
        return cfg

    def everything(self) -> dict[str, DictConfig]:
        return {e: self[e] for e in ["", *EXPERIMENTS]}


@pytest.fixture(scope="module")
def composed() -> Composed:
    return Composed()


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_composes(composed, experiment, tmp_path: Path):
    cfg = composed[experiment].copy()  # the composition the run-dir tests below read too (one per worker)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg.hydra
        cfg.paths.output_dir = cfg.paths.work_dir = str(tmp_path)  # what the CLI sets at launch
    validate(cfg)


@pytest.mark.parametrize("model", MODELS)
def test_every_model_config_validates(train_cfg, model):
    nlu = model.startswith("srnet/")
    data = "tabular/iris" if model == "mlp" else ("nlu/synthetic_nli" if nlu else "digits")
    cfg = train_cfg([f"model={model}", f"data={data}"])
    validate(cfg)
    missing = [k for k in cfg.model.net if OmegaConf.is_missing(cfg.model.net, k)]
    if missing:  # built from a finished run (learngene/finetune, learngene/finetune_pretrained: tests/test_learngene.py),
        # or a wrapper whose host network the experiment supplies (srnet/masked_classifier: tests/test_cross.py)
        expected = {
            "learngene/finetune": ["run_dir"],
            "learngene/finetune_pretrained": ["run_dir"],
            "srnet/masked_classifier": ["net"],
        }
        assert missing == expected[model], missing
        return
    if nlu:  # token batches; the transformers model is built and run end to end in tests/test_srnet.py
        return
    net = hydra.utils.instantiate(cfg.model.net)
    assert net(torch.randn(2, *cfg.data.input_shape)).shape == (2, cfg.data.num_classes)


def test_launchers_compose():
    with initialize_config_dir(config_dir=prepare_hydra(), version_base="1.3"):
        cfg = compose(
            "train", overrides=["hydra/launcher=submitit_slurm", "trainer=ddp"], return_hydra_config=True
        )
        assert (
            cfg.hydra.launcher._target_
            == "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"
        )
        assert cfg.hydra.launcher.gpus_per_node == 4 and cfg.hydra.launcher.tasks_per_node == 4
        cfg = compose("train", overrides=["hydra/launcher=joblib"], return_hydra_config=True)
        assert cfg.hydra.launcher._target_.endswith("JoblibLauncher") and cfg.hydra.launcher.n_jobs == 2


def test_unknown_override_key_fails_at_compose(train_cfg):
    with pytest.raises(ConfigCompositionException, match="bath_size"):
        train_cfg(["data.bath_size=32"])


def test_unknown_key_in_a_config_file_fails_before_work(train_cfg):
    """A typo in a yaml file (simulated with +) is caught against the constructor signature."""
    cfg = train_cfg(["+data.bath_size=32"])
    with pytest.raises(ConfigError) as e:
        build(cfg)
    assert "data.bath_size" in str(e.value) and "did you mean 'batch_size'" in str(e.value)
    cfg = train_cfg(["+model.net.widht=[8]"])
    with pytest.raises(ConfigError, match="model.net.widht"):
        validate(cfg)


def test_wrong_type_fails_naming_the_key(train_cfg):
    with pytest.raises(ConfigError, match="'data.batch_size': got 'abc'"):
        validate(train_cfg(["data.batch_size=abc"]))
    with pytest.raises(ConfigError, match="trainer.max_epochs"):
        validate(train_cfg(["trainer.max_epochs=ten"]))
    with pytest.raises(ConfigError, match="model.net.norm"):
        validate(train_cfg(["model.net.norm=batchy"]))


def test_top_level_schema(train_cfg):
    with pytest.raises(ConfigCompositionException) as e:
        train_cfg(["seed=abc"])
    assert "seed" in str(e.value.__cause__ or e.value)
    with pytest.raises(ConfigError, match="did you mean 'seed'"):
        validate(train_cfg(["+sead=1"]))


def test_unknown_dataset_name_lists_the_options(train_cfg):
    with pytest.raises(MissingConfigException) as e:
        train_cfg(["data=imagenet21k"])
    assert "imagenet10" in str(e.value) and "digits" in str(e.value)


def test_unknown_target_fails(train_cfg):
    with pytest.raises(ConfigError, match="model.net._target_"):
        validate(train_cfg(["model.net._target_=compresslab.models.NoSuchNet"]))


def test_missing_data_dir_fails_before_any_work(train_cfg, tmp_path: Path):
    cfg = train_cfg(["data=cifar10", f"paths.data_dir={tmp_path / 'nowhere'}", "data.num_workers=0"])
    hydra.utils.instantiate(cfg.data)  # constructing the reader never touches the disk...
    with pytest.raises(
        DataError, match="nowhere"
    ) as e:  # ...building the run checks it, naming path and source
        build(cfg)
    assert "cifar-10-batches-bin" in str(e.value) and "Where to get it" in str(e.value)


def test_batch_not_divisible_by_world_size_fails_in_build(train_cfg):
    with pytest.raises(ConfigError, match="multiple of the world size 2"):
        build(train_cfg(["trainer=ddp_cpu", "data.batch_size=63"]))


def test_schema_classes_unused_keys_are_rejected():
    with pytest.raises((ValidationError, ConfigKeyError)):
        from omegaconf import OmegaConf

        from compresslab.utils.config import TrainConfig

        OmegaConf.merge(OmegaConf.structured(TrainConfig), {"sede": 3})


# ------------------------------------------------------------- run directories and paper rows: one rule, one home
RUN_DIR_KEYS = ("hydra.run.dir", "hydra.sweep.dir", "hydra.sweep.subdir")
#: experiments whose folder the rule in conf/hydra/default.yaml cannot express (each says why in its file);
#: learngene/reduced_teacher: one teacher for all seeds, so no seed folder
HAND_WRITTEN_DIRS = {"learngene/reduced_teacher": ["hydra.run.dir", "hydra.sweep.dir", "hydra.sweep.subdir"]}


def _dir(cfg: DictConfig, key: str, **values) -> str:
    """``key`` resolved with top-level ``values`` set first (``seed=3``) on a copy of ``cfg``."""
    cfg = cfg.copy()
    with open_dict(cfg):
        for k, v in values.items():
            cfg[k] = v
    return str(OmegaConf.select(cfg, key))


def _raw(cfg: DictConfig, key: str) -> str:
    parent, leaf = key.rsplit(".", 1)
    return OmegaConf.to_container(OmegaConf.select(cfg, parent), resolve=False)[leaf]


def test_experiments_set_no_run_dir_the_rule_gives(composed):
    """An experiment names its runs (paths.run_group / run_name / run_step); a hand-written hydra dir stays only
    where the rule cannot express it, and then it differs from what the rule gives."""
    raw_rule = {key: _raw(composed[""], key) for key in RUN_DIR_KEYS}
    hand_written: dict[str, list[str]] = {}
    for name, cfg in composed.everything().items():
        for key in RUN_DIR_KEYS:
            if _raw(cfg, key) == raw_rule[key]:
                continue
            hand_written.setdefault(name, []).append(key)
            by_rule = cfg.copy()
            OmegaConf.update(by_rule, key, raw_rule[key], merge=False)
            written = _dir(cfg, key)
            assert written != _dir(by_rule, key), (
                f"{name}: {key} written by hand is what the rule gives ({written}); set paths.run_group / run_name / "
                "run_step instead (conf/paths/default.yaml)"
            )
    assert hand_written == HAND_WRITTEN_DIRS


@pytest.mark.parametrize(
    ("experiment", "seed", "run_dir", "sweep_dir", "subdir"),
    [
        ("srnet/reduced_mask", 1, "/logs/srnet_reduced/mask_poe_s0.5/seed1", "/logs/srnet_reduced", "mask_poe_s0.5/seed1"),
        ("srnet/full/mnli_finetune", 3, "/logs/srnet_full/mnli/finetune_ce/seed3", "/logs/srnet_full/mnli", "finetune_ce/seed3"),
        ("hpmkd/digits_teacher", 0, "/logs/hpmkd/teachers/digits8/seed0", "/logs/hpmkd/teachers", "digits8/seed0"),
        ("learngene/reduced_ict_phase2", 2, "/logs/learngene_reduced/ict_chebyshev/seed2/phase2", "/logs/learngene_reduced", "ict_chebyshev/seed2/phase2"),
        ("learngene/reduced_teacher", 5, "/logs/learngene_reduced/teacher", "/logs/learngene_reduced", "teacher"),
        ("hpmkd/digits", 1, "/logs/hpmkd_digits/runs/<id>", "/logs/hpmkd_digits/multiruns/<id>", "3"),
        ("", 1, "/logs/train/runs/<id>", "/logs/train/multiruns/<id>", "3"),
    ],
)  # fmt: skip
def test_run_dirs_are_where_later_stages_look(composed, experiment, seed, run_dir, sweep_dir, subdir):
    cfg = composed[experiment]
    got = [_dir(cfg, key, seed=seed).replace(run_id(), "<id>") for key in RUN_DIR_KEYS]
    assert got == [run_dir, sweep_dir, subdir]


def test_paper_blocks_name_only_what_the_paper_config_does_not(composed):
    """The shared part of ``paper`` (name, scale, usual table) comes from conf/paper/<choice>.yaml; an experiment
    file states only its own row (and table or scale where they differ)."""
    for name, cfg in composed.everything().items():
        if not cfg.paper.name:
            continue
        choice = cfg.hydra.runtime.choices.get("paper")
        assert choice, f"{name}: paper.name={cfg.paper.name!r} without a /paper config in its defaults list"
        shared = OmegaConf.load(CONF_DIR / "paper" / f"{choice}.yaml")
        own = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "experiment" / f"{name}.yaml"), resolve=False)
        own = (own.get("paper") or {}).items()
        restated = [k for k, v in own if k in shared and shared[k] == v]
        assert not restated, f"{name}: paper.{restated} restate conf/paper/{choice}.yaml"
    assert composed["srnet/full/qqp_ood"].paper == {
        "name": "srnet", "table": "srnet_paradigms", "row": "ood/ce/0.5", "scale": "full"
    }  # fmt: skip
    assert composed["rnnpool/table2_224"].paper.scale == "reduced_224"
