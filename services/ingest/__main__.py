"""``python -m services.ingest``: serve the ingest API with uvicorn."""

from services.ingest.main import main

raise SystemExit(main())
