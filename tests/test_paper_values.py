"""The paper-value registry: light to import, and its numbers are the papers' (as quoted in shared/papers/*.md)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from compresslab.paper_values import REFERENCES, paper_reference
from compresslab.tables import TABLES

HEAVY = (
    "torch",
    "timm",
    "torchvision",
    "lightning",
    "compresslab.tables",
    "compresslab.rnnpool",
    "compresslab.models",
)


def test_importing_the_registry_in_a_fresh_interpreter_imports_no_network_code():
    code = (
        "import json, sys\n"
        "from compresslab.paper_values import paper_reference\n"
        "value = paper_reference('rnnpool_table2', 'rnnpool+last_layer_rnnpool=False')\n"
        f"heavy = [m for m in sys.modules if any(m == h or m.startswith(h + '.') for h in {HEAVY!r})]\n"
        "print(json.dumps({'heavy': heavy, 'value': value}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["heavy"] == []
    assert out["value"] == {"acc": 94.40, "madds_g": 0.226, "params_m": 2.0}


@pytest.mark.parametrize(
    ("table", "row", "key", "paper"),
    [
        # hpmkd.md §4.2, draft Table 2: "| CIFAR-10 (3.1×) | 93.52 | 88.74 | 91.37 (97.70) | 91.68 | 91.42 |
        # 91.85 (98.21) | 92.34±0.12 (98.74), 4.7 h |"
        ("hpmkd_main", "cifar10/hpmkd", "acc", 92.34),
        ("hpmkd_main", "cifar10/hpmkd", "retention", 98.74),
        ("hpmkd_main", "cifar10/kd", "acc", 91.37),
        # hpmkd.md §4.3, exp 1: "| TraditionalKD | 67.12±0.82 | 84.66 | 578 |"
        ("hpmkd_main", "digits_headroom/kd", "time_s", 578.0),
        # srnet.md §5, Table 5: "| gradual 0.7→0.9 | 76.84 (0.46) | 56.72 (0.75) | 79.49 (0.58) | ..."
        ("srnet_table5", "cubic/soft/0.7", "MNLI", 76.84),
        ("srnet_table5", "cubic/soft/0.7", "HANS", 56.72),
        # rnnpool.md §3, Table 2: "| RNNPoolLayer | 94.40 | 0.226G | 2.0M | 94.80 | 1.04G | 5.60M | ..."
        ("rnnpool_table2", "rnnpool+last_layer_rnnpool=False", "acc", 94.40),
        ("rnnpool_table2", "rnnpool+last_layer_rnnpool=False", "madds_g", 0.226),
        # learngene.md §4: "ICT accuracy with 1/2/4/8/12 learngenes: 76.60 / 79.44 / 81.70 / 83.08 / 83.70"
        # (the reduced scale's 6 learngenes stand for the paper's 12)
        ("learngene_ict", "ict/chebyshev/6", "acc", 83.70),
        # learngene.md §1, Table 1 (SCT, 100 ep): "| 74.80% | **77.73%** | 77.09% | 73.13% |" (Chebyshev 2nd)
        ("learngene_bases", "sct/chebyshev/shifted", "acc", 77.73),
    ],
)
def test_registry_values_are_the_papers(table, row, key, paper):
    assert paper_reference(table, row)[key] == paper


def test_every_registered_reference_names_a_table_and_unknown_cells_give_none():
    assert set(REFERENCES) <= set(TABLES)
    assert paper_reference("hpmkd_main", "wine/dml") is None  # exp 1 has no DML arm
    assert paper_reference("srnet_fig2", "mask/poe/0.5") is None  # Figs. 2-3 are curves
    assert paper_reference("learngene_ict", "not/a/row") is None
    assert paper_reference("", "") is None
