"""The package is not installed on the 3.11 CI (it needs Isaac Lab on 3.12): import it from source.

Only its pure-Python modules (``g1`` constants, ``contract``) are imported by these tests.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
