"""Tests that need Isaac Lab 3 (Python 3.12 bundle, or the 3.11 dry-run install): not in CI's testpaths.

Run them in the Isaac Lab environment, e.g. on this machine's CPU:
``CUDA_VISIBLE_DEVICES= PYTHONPATH=exts/legged_robots_isaaclab:/tmp/il/site311:/tmp/il/site311host
.venv/bin/python -m pytest exts/legged_robots_isaaclab/tests_il -q`` (docs/isaaclab.md, "Step 2").
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
