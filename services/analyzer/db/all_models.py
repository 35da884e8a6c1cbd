"""Every table of the analyzer in one metadata: import this, not one model module, to walk all tables.

Alembic's environment (``migrations/env.py``) compares it with the database, and whatever walks
``Base.metadata.sorted_tables`` needs each model module imported first: ``base`` knows no table itself.
"""

from __future__ import annotations

from services.analyzer.db import change_models, models, plan_models, request_models, webhook_models
from services.analyzer.db.base import Base

__all__ = ["Base", "change_models", "models", "plan_models", "request_models", "webhook_models"]
