"""The application's routes, one router per noun, in the order the application includes them."""
from __future__ import annotations

from . import api, audit, health, login, rounds, submissions, units

ROUTERS = [health.router, api.router, login.router, rounds.router, submissions.router, units.router,
           audit.router]
