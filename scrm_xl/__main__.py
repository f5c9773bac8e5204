"""``python -m scrm_xl`` is the ``scrm-xl`` command."""

import sys

from .cli import main

sys.exit(main())
