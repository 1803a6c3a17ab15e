"""Login throttling per account and per address.

An account under attack is slowed (AUTH_ACCOUNT_RATE_LIMIT, e.g. 5 failures in
5 minutes for one login name, whatever the address), a busy office behind one NAT
address is not (AUTH_RATE_LIMIT per address is much higher). Only failed attempts
count: a colleague who signs in does not use up the office's allowance. The
counters live where Flask-Limiter keeps them: Redis when REDIS_URL is set (shared
by every worker), memory otherwise.
"""

from __future__ import annotations

from flask import request
from flask_limiter.util import get_remote_address
from flask_login import current_user


def login_name() -> str:
    """Return the login name a sign-in request names ("" when none), case-folded."""
    name = request.form.get("username")
    if name is None:
        payload = request.get_json(silent=True)
        name = payload.get("username") if isinstance(payload, dict) else None
    return str(name or "").strip().casefold()


def account_key() -> str:
    """Return the counter key of the account tried (the address when none is named)."""
    name = login_name()
    return f"account:{name}" if name else f"address:{get_remote_address()}"


def failed(response) -> bool:
    """Return True when the sign-in answered by `response` failed (it is counted)."""
    if request.path.startswith("/api/"):
        return response.status_code != 200
    return not current_user.is_authenticated


def install(limiter, address_limit: str, account_limit: str, blueprints) -> None:
    """Limit POSTs to the sign-in `blueprints`: failures per address and per account."""
    # Shared limits: one counter for both doors, not one per blueprint.
    by_address = limiter.shared_limit(address_limit, scope="login-address", methods=["POST"],
                                      deduct_when=failed)
    by_account = limiter.shared_limit(account_limit, scope="login-account", methods=["POST"],
                                      key_func=account_key, deduct_when=failed)
    for blueprint in blueprints:
        by_address(blueprint)
        by_account(blueprint)


def retry_after() -> int | None:
    """Return the seconds until the breached sign-in limit of this request lets
    the caller try again, or None when no limit was breached."""
    import time

    from flask import current_app

    limiter = getattr(current_app.appbuilder.sm, "limiter", None)
    current = getattr(limiter, "current_limit", None) if limiter is not None else None
    if current is None or not current.breached:
        return None
    return max(1, int(current.reset_at - time.time()))
