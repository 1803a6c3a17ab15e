"""Save-time policies: one mechanism for yes/no rights, numeric limits and
allow / warn / forbid rights, used by every service that saves a document.

    checks = Policies(confirmed=request_says_confirmed)
    checks.policy("voucher.without_staff", voucher.staff is None, _("Талон без медперсонала"))
    checks.limit("voucher.edit_days", days_since_service, _("Талон старше допустимого"))
    checks.settle(session, "voucher", voucher.id)   # raises, or journals what was confirmed

Forbid refuses with a Russian message naming the right; warn needs an explicit
confirmation (the API's `confirm` parameter, the form's checkbox): without it
the answer lists the warnings and nothing is saved. Every decision is journaled.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _

from models.journal import JournalEntry
from security.catalogue import load_catalogue
from security.effective import EffectiveRights, current
from services.errors import UchetError
from services.journal import current_actor


@dataclass(frozen=True)
class Decision:
    """What a policy decided about one save: refused, warned or confirmed."""

    code: str
    outcome: str
    message: str


class PolicyRefused(UchetError):
    """A forbidding right stopped the save; nothing was written but the refusal."""


class ConfirmationRequired(UchetError):
    """Warnings must be confirmed before the save goes through."""

    def __init__(self, warnings: list[str]) -> None:
        super().__init__(_("Требуется подтверждение: %(w)s", w="; ".join(warnings)))
        self.warnings = warnings


@dataclass
class Policies:
    """Collects the decisions of one save, then settles them all at once."""

    confirmed: bool = False
    rights: EffectiveRights | None = None
    decisions: list[Decision] = field(default_factory=list)

    def _rights(self) -> EffectiveRights:
        return self.rights or current()

    def _label(self, code: str) -> str:
        return load_catalogue().rights[code].ru

    def _refuse(self, code: str, what: str) -> None:
        message = _("%(what)s: запрещено правом «%(right)s»", what=what, right=self._label(code))
        self.decisions.append(Decision(code, "refused", message))

    def policy(self, code: str, happens: bool, what: str) -> None:
        """Apply an allow / warn / forbid right to a situation that `happens`."""
        if not happens:
            return
        value = self._rights().value(code)
        if value == "forbid":
            self._refuse(code, what)
        elif value == "warn":
            outcome = "confirmed" if self.confirmed else "warned"
            message = _("%(what)s (право «%(right)s»)", what=what, right=self._label(code))
            self.decisions.append(Decision(code, outcome, message))

    def flag(self, code: str, needed: bool, what: str) -> None:
        """Refuse when the action is `needed` and the yes/no right is "no"."""
        if needed and not self._rights().flag(code):
            self._refuse(code, what)

    def limit(self, code: str, amount: int | Decimal, what: str) -> None:
        """Refuse when `amount` exceeds a numeric right (0 means unlimited)."""
        right = load_catalogue().rights[code]
        allowed = Decimal(str(self._rights().value(code)))
        if right.zero_unlimited and allowed == 0:
            return
        if Decimal(str(amount)) > allowed:
            self._refuse(code, _("%(what)s (допустимо: %(n)s)", what=what, n=allowed))

    def settle(self, session, table: str, row_pk: object) -> list[Decision]:
        """Raise on refusals or unconfirmed warnings; otherwise journal the
        confirmed warnings in the caller's transaction and return all decisions.

        A refusal rolls the caller's transaction back and journals only itself.
        """
        refused = [d for d in self.decisions if d.outcome == "refused"]
        warned = [d for d in self.decisions if d.outcome == "warned"]
        if refused:
            session.rollback()
            self._journal(session, table, row_pk, refused)
            session.commit()
            raise PolicyRefused("; ".join(d.message for d in refused))
        if warned:
            raise ConfirmationRequired([d.message for d in warned])
        self._journal(session, table, row_pk,
                      [d for d in self.decisions if d.outcome == "confirmed"])
        return list(self.decisions)

    @staticmethod
    def _journal(session, table: str, row_pk: object, decisions: list[Decision]) -> None:
        user_id, username = current_actor()
        for decision in decisions:
            session.add(JournalEntry(
                at=dt.datetime.now(dt.UTC), user_id=user_id, username=username,
                action="policy", table_name=table, row_pk=str(row_pk), before=None,
                after={"right": decision.code, "decision": decision.outcome,
                       "message": decision.message},
            ))
