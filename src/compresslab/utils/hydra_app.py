"""Where the Hydra config tree lives and what every entry point sets up before composing."""

from __future__ import annotations

import os
from pathlib import Path

from compresslab.utils.config import register_schemas

#: repository root (this file is src/compresslab/utils/hydra_app.py)
PROJECT_ROOT = Path(__file__).resolve().parents[3]
CONF_DIR = PROJECT_ROOT / "conf"


def prepare_hydra() -> str:
    """Register schemas, export ``COMPRESSLAB_ROOT`` for ``conf/paths``, return the absolute config dir."""
    if not CONF_DIR.is_dir():
        raise FileNotFoundError(
            f"Hydra config folder not found at {CONF_DIR}. compresslab runs from a clone of the repository "
            "installed with `pip install -e .` (or `make install`); the configs are not packaged separately."
        )
    os.environ.setdefault("COMPRESSLAB_ROOT", str(PROJECT_ROOT))
    register_schemas()
    return str(CONF_DIR)
