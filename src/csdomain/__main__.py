"""``python -m csdomain`` runs the ``csdomain`` command."""

import sys

from csdomain.cli import main

sys.exit(main())
