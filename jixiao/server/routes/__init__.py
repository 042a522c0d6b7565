"""The application's routes, one router per noun, in the order the application includes them."""
from __future__ import annotations

from . import accounts, api, assessment, audit, health, login, review, rounds, rounds_api, sampling, submissions, units

ROUTERS = [health.router, api.router, rounds_api.router, review.router, login.router, rounds.router,
           submissions.router, units.router, accounts.router, audit.router, sampling.router,
           assessment.router]
