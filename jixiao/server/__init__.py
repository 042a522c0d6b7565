"""jixiao's submission server: units upload their self-evaluation workbooks, jixiao checks them,
the bureau's reviewers see every unit of a round at a glance.

``create_app(Settings(...))`` builds the FastAPI application; ``jixiao serve`` runs it with uvicorn.
"""
from __future__ import annotations

from .config import Settings

__all__ = ["Settings", "create_app"]


def create_app(settings: Settings):
    from .app import create_app as _create

    return _create(settings)
