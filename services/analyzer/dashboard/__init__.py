"""The analyzer's web dashboard (``/dashboard``): accounts by divergence, one account over time, alerts.

Server-rendered HTML from Jinja2 templates (``templates/``) with inline SVG charts drawn in Python;
its stylesheet and icon are served from this package. See docs/dashboard.md.
"""

from services.analyzer.dashboard.routes import install

__all__ = ["install"]
