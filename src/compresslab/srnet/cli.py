"""``compresslab-srnet``: precompute SRNet's per-example prediction files (srnet.md §2.2); export subnetworks.

    compresslab-srnet bias data=nlu/mnli --features overlap --out data/srnet_bias/mnli_overlap.pt
    compresslab-srnet bias data=nlu/fever --features claim --out data/srnet_bias/fever_claim.pt
    compresslab-srnet teacher logs/srnet_full/mnli/finetune_ce/seed1 data=nlu/mnli
    compresslab-srnet export logs/srnet_reduced/mask_poe_s0.5/seed1 --out exported/mask_poe_s0.5

``bias`` fits the bias-only model on the raw training split of the task (``data=`` and any other Hydra overrides
of ``compresslab-train``) and writes its log-probs keyed by example id. ``teacher`` writes the train-set
predictions of a CE fine-tuning run to ``<run>/train_log_probs.pt`` (conf-reg's teacher). Training runs build
either file on first use when it is missing; this command does it once, before a sweep or a multi-GPU job.
``export`` writes a run's masked model as a standard transformers directory (pruned weights are zeros) plus
``sparsity.json`` (:mod:`compresslab.srnet.export`).
"""

from __future__ import annotations

import argparse
from typing import Any

from compresslab.utils.errors import CompresslabError, ConfigError


def _compose(overrides: list[str]) -> Any:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from compresslab.utils.hydra_app import prepare_hydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=prepare_hydra(), version_base="1.3"):
        return compose("train", overrides=overrides)


def bias_command(args: argparse.Namespace) -> int:
    from hydra.utils import instantiate

    from compresslab.srnet.bias import build_bias_predictions, save_predictions

    cfg = _compose(args.overrides)
    source = instantiate(cfg.data.dataset)
    split = getattr(source, "train_split", "train")
    if split is None:
        raise ConfigError(
            "data", cfg.data.dataset._target_, "a dataset with a training split", "pick the ID task."
        )
    pairs = source.read(split)
    pretrained = args.pretrained or getattr(source, "tokenizer_dir", None)
    table = build_bias_predictions(
        pairs.text_a,
        pairs.text_b,
        pairs.labels,
        pairs.ids,
        source.num_classes,
        args.features,
        pretrained,
        pairs.origin,
    )
    save_predictions(args.out, table)
    print(
        f"wrote {args.out}: {len(table.ids)} examples, bias-only training accuracy {table.meta['train_accuracy']:.4f}"
    )
    return 0


def teacher_command(args: argparse.Namespace) -> int:
    import torch
    from hydra.utils import instantiate

    from compresslab.srnet.bias import teacher_prediction_file

    cfg = _compose(args.overrides)
    dm = instantiate(cfg.data)
    dm.setup()
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    table = teacher_prediction_file(args.run, dm.splits.train, device=device, batch_size=args.batch_size)
    print(f"{args.run}/train_log_probs.pt: {len(table.ids)} examples")
    return 0


def export_command(args: argparse.Namespace) -> int:
    from compresslab.srnet.export import SPARSITY_FILE, export_run

    report = export_run(args.run, args.out)
    print(
        f"wrote {args.out}: {report['model_class']} with {len(report['masked_weights'])} masked matrices, "
        f"overall sparsity {report['overall_sparsity']:.4f} (per matrix: {args.out}/{SPARSITY_FILE})"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    from compresslab.srnet.bias import FEATURES

    parser = argparse.ArgumentParser(prog="compresslab-srnet", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bias", help="fit a bias-only model and write its per-example log-probs")
    b.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. data=nlu/mnli paths.data_dir=/data")
    b.add_argument("--features", default="overlap", choices=FEATURES)
    b.add_argument("--out", required=True, help="the prediction file to write")
    b.add_argument(
        "--pretrained", default=None, help="PLM dir of the word vectors (default: the data's tokenizer dir)"
    )
    b.set_defaults(fn=bias_command)
    t = sub.add_parser(
        "teacher", help="write a CE fine-tuning run's train-set predictions (conf-reg teacher)"
    )
    t.add_argument("run", help="the finished fine-tuning run directory")
    t.add_argument("overrides", nargs="*", help="Hydra overrides selecting the same data, e.g. data=nlu/mnli")
    t.add_argument("--device", default=None)
    t.add_argument("--batch-size", type=int, default=128)
    t.set_defaults(fn=teacher_command)
    e = sub.add_parser(
        "export",
        help="write a run's masked model as a transformers directory (save_pretrained) + sparsity.json",
    )
    e.add_argument("run", help="a finished mask-training, IMP or re-training run directory")
    e.add_argument("--out", required=True, help="the model directory to write")
    e.set_defaults(fn=export_command)
    args = parser.parse_args(argv)
    try:
        return args.fn(args)
    except CompresslabError as e:
        print(f"compresslab-srnet: {e}")
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
