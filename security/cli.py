"""`flask rights ...`: inspect rights from the command line."""

from __future__ import annotations

from flask.cli import AppGroup

rights_cli = AppGroup("rights", help="Права доступа.")
