"""``python -m services.cli``: the same as the ``feedback`` command."""

from services.cli.main import main

raise SystemExit(main())
