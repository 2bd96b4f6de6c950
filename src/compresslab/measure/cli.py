"""``compresslab-measure model=<name> [data=<name>] [input_shape=[3,224,224]]``.

Prints a table of params, MAdds, analytic peak RAM and latency of ``model.net``, then the same figures as
JSON on the last line (for scripts). No data is read: the input shape comes from the data config, and its kind
from the data reader: integer token ids (in the model's vocabulary) for text data, floats otherwise. A model that
does not fit the data fails with both names before anything is measured.
"""

from __future__ import annotations

import json

import hydra
from hydra.utils import get_object
from omegaconf import DictConfig, OmegaConf

from compresslab.measure.report import format_measure_table, measure_model
from compresslab.utils.config import validate_targets
from compresslab.utils.errors import ConfigError
from compresslab.utils.hydra_app import exits_on_error, prepare_hydra, run_entry_point
from compresslab.utils.model_data import check_model_fits_data, example_input, gives_tokens


def run(cfg: DictConfig) -> dict:
    if cfg.get("model") is None:
        raise ConfigError("model", None, "a model config", "pass model=<name> (see conf/model/).")
    net_cfg = cfg.model.get("net", cfg.model)
    validate_targets(net_cfg, root="model.net" if "net" in cfg.model else "model")
    shape = cfg.get("input_shape") or (cfg.data.get("input_shape") if cfg.get("data") else None)
    if not shape:
        raise ConfigError(
            "input_shape", None, "a list like [3, 224, 224]", "pass input_shape=[C,H,W] or data=<name>."
        )
    net = hydra.utils.instantiate(net_cfg)
    model_name = str(net_cfg.get("_target_", "model")).rsplit(".", 1)[-1]
    reader = OmegaConf.select(cfg, "data.dataset._target_")
    if reader and not cfg.get("input_shape"):  # an explicit input_shape measures the net alone
        data_cls = get_object(reader)
        data_name = OmegaConf.select(cfg, "data.dataset.name") or data_cls.__name__
        check_model_fits_data(net, list(shape), gives_tokens(data_cls), model_name, str(data_name))
    m = cfg.measure
    result = measure_model(
        net,
        list(shape),
        example=example_input(net, list(shape), cfg.batch_size),
        batch_size=cfg.batch_size,
        bytes_per_value=m.bytes_per_value,
        latency=m.latency,
        latency_repeats=m.latency_repeats,
        latency_warmup=m.latency_warmup,
    )
    result.pop("madds_by_module", None)
    name = net_cfg.get("model_name") or str(net_cfg.get("_target_", "model")).rsplit(".", 1)[-1]
    result["model"] = name
    import rich

    rich.print(format_measure_table(name, result))
    print(json.dumps(result))
    return result


@hydra.main(version_base="1.3", config_path=prepare_hydra(), config_name="measure")
@exits_on_error
def _hydra_main(cfg: DictConfig) -> None:
    run(cfg)


def main() -> None:
    """Console script ``compresslab-measure``."""
    run_entry_point(_hydra_main)


if __name__ == "__main__":
    main()
