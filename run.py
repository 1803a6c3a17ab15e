"""Entry point for `flask --app run` and `gunicorn run:app`.

A configuration error stops start-up with one line naming the setting.
"""

import sys

from app import create_app
from config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    sys.stderr.write(f"uchet: configuration error: {exc}\n")
    raise SystemExit(2) from None
