"""The web API and dashboard: ``create_app(db_path)`` builds the FastAPI application that
``hybridwatch serve`` runs. See docs/web.md."""

from hybridwatch.web.app import create_app

__all__ = ["create_app"]
