"""``python -m nengo_lmu``: the ``nengo-lmu`` command (see `nengo_lmu.cli`)."""

import sys

from nengo_lmu.cli import main

sys.exit(main())
