"""Imported by the worker pool's fork server: every worker starts with the templates compiled."""
from .work import warm

warm()
