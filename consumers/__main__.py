"""`python -m consumers` is `sla-ledger`."""

import sys

from consumers.cli import main

sys.exit(main())
