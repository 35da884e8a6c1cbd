"""``python -m services.analyzer``: see ``services.analyzer.main``."""

from services.analyzer.main import main

raise SystemExit(main())
