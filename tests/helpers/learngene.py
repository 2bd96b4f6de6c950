"""What a trained ICT chain must satisfy end to end (run by the README test, whose first-hour commands train it)."""

from __future__ import annotations

import json
from pathlib import Path

import timm
import torch

from compresslab.learngene import load_recomposed
from compresslab.learngene.cli import main as recompose_main


def check_ict_chain_and_export(chain: Path, out_dir: Path) -> None:
    """``chain`` = an ICT chain's ``seed<s>`` folder after phases 1 and 2 ran through the real trainer: phase 2 kept
    gene 0 bit-identical and trained gene 1; ``compresslab-recompose`` of phase 2 to 3 blocks from 2 genes gives the
    same network as a learngene module and as a plain timm checkpoint (strict ``load_state_dict``)."""
    sd1 = torch.load(chain / "phase1/checkpoints/last.ckpt", weights_only=True)["state_dict"]
    sd2 = torch.load(chain / "phase2/checkpoints/last.ckpt", weights_only=True)["state_dict"]
    gene0 = [k for k in sd1 if k.startswith("net.learngenes.0.")]
    assert len(gene0) == 12 and all(torch.equal(sd1[k], sd2[k]) for k in gene0)
    assert not torch.equal(sd1["net.learngenes.1.mlp.fc1.weight"], sd2["net.learngenes.1.mlp.fc1.weight"])
    assert int(sd2["net.active"]) == 2
    metrics = json.loads((chain / "phase2" / "metrics.json").read_text())
    assert metrics["config"]["paper"]["row"] == "ict/chebyshev/2"
    out = out_dir / "vit_3L.pt"
    assert recompose_main([str(chain / "phase2"), "--depth", "3", "--k", "2", "--out", str(out)]) == 0
    model = load_recomposed(out)
    assert len(model.blocks) == 3
    assert json.loads(out.with_name("vit_3L.pt.json").read_text())["params"] == sum(
        p.numel() for p in model.parameters()
    )
    timm_out = out_dir / "vit_3L_timm.pt"
    argv = [str(chain / "phase2"), "--depth", "3", "--k", "2", "--format", "timm", "--out", str(timm_out)]
    assert recompose_main(argv) == 0
    meta = json.loads(timm_out.with_name("vit_3L_timm.pt.json").read_text())
    plain = timm.create_model(**meta["timm_create_kwargs"])
    plain.load_state_dict(torch.load(timm_out, weights_only=True), strict=True)
    x = torch.randn(2, *metrics["config"]["data"]["input_shape"])
    torch.testing.assert_close(plain.eval()(x), model.eval()(x), rtol=0, atol=1e-6)
