"""`python -m refmotion_manager ...`"""

import sys

from refmotion_manager.cli import main

sys.exit(main())
