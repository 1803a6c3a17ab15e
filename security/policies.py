"""Save-time policies: the one mechanism for allow / warn / forbid rights, yes/no
rights, numeric limits and the warnings of a save, used by every service that
saves a document (vouchers and their lines today, money documents next).

    checks = Policies(rights=rights, confirmed=request_says_confirmed)
    checks.policy("voucher.without_staff", voucher.nurse is None, _("Талон без медперсонала"))
    checks.limit("voucher.edit_days", days_since_service, _("Талон старше допустимого"))
    checks.settle(session, "vch_voucher", voucher.id)  # raises, or journals what was confirmed

Forbid refuses; warn needs an explicit confirmation (the form's «Подтверждаю»,
the API's `confirm`): without it the answer lists the warnings and nothing is
saved. Confirmed warnings are journaled in the caller's transaction; a refusal
carries its journal rows, which the command boundary (`services.boundary`)
writes after rolling the save back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _

from core.actor import current_actor
from core.errors import ConfirmationRequired, PolicyRefused
from models.journal import JournalEntry
from security.catalogue import load_catalogue
from security.effective import EffectiveRights, current, right_label


@dataclass(frozen=True)
class Decision:
    """What a policy decided about one save: refused, warned or confirmed."""

    code: str
    outcome: str
    message: str
    field: str | None = None


@dataclass
class Policies:
    """Collects the decisions of one save, then settles them all at once.

    `name_rights` adds the right's label to each message; rules whose messages
    already say what is missing (the voucher's «Не указан медперсонал») turn it off."""

    confirmed: bool = False
    rights: EffectiveRights | None = None
    decisions: list[Decision] = field(default_factory=list)
    name_rights: bool = True

    def _rights(self) -> EffectiveRights:
        return self.rights or current()

    @property
    def warnings(self) -> list[str]:
        """Return the messages of the warnings still to confirm."""
        return [d.message for d in self.decisions if d.outcome == "warned"]

    def refuse(self, code: str, what: str, *, field: str | None = None) -> None:
        """Record a refusal under the right `code` (the save will not go through)."""
        message = (_("%(what)s: запрещено правом «%(right)s»", what=what,
                     right=right_label(code)) if self.name_rights else what)
        self.decisions.append(Decision(code, "refused", message, field))

    def warn(self, code: str, what: str) -> None:
        """Record a warning under `code`: confirmed already, or to be confirmed."""
        message = (_("%(what)s (право «%(right)s»)", what=what, right=right_label(code))
                   if self.name_rights else what)
        self.decisions.append(Decision(code, "confirmed" if self.confirmed else "warned",
                                       message))

    def policy(self, code: str, happens: bool, what: str, *, field: str | None = None) -> None:
        """Apply an allow / warn / forbid right to a situation that `happens`."""
        if not happens:
            return
        value = self._rights().value(code)
        if value == "forbid":
            self.refuse(code, what, field=field)
        elif value == "warn":
            self.warn(code, what)

    def flag(self, code: str, needed: bool, what: str) -> None:
        """Refuse when the action is `needed` and the yes/no right is "no"."""
        if needed and not self._rights().flag(code):
            self.refuse(code, what)

    def limit(self, code: str, amount: int | Decimal, what: str) -> None:
        """Refuse when `amount` exceeds a numeric right (0 means unlimited)."""
        right = load_catalogue().rights[code]
        allowed = Decimal(str(self._rights().value(code)))
        if right.zero_unlimited and allowed == 0:
            return
        if Decimal(str(amount)) > allowed:
            self.refuse(code, _("%(what)s (допустимо: %(n)s)", what=what, n=allowed))

    def stop_if_refused(self, table: str | None = None, row_pk: object = None) -> None:
        """Raise PolicyRefused now if anything was refused: a rule whose later checks
        need what the refused one guards stops here. Journals with `table`."""
        refused = [d for d in self.decisions if d.outcome == "refused"]
        if refused:
            raise PolicyRefused("; ".join(d.message for d in refused), field=refused[0].field,
                                journal=self._entries(table, row_pk, refused) if table else ())

    def settle(self, session, table: str, row_pk: object) -> list[Decision]:
        """Raise PolicyRefused on refusals, ConfirmationRequired on unconfirmed
        warnings; otherwise journal the confirmed warnings in the caller's
        transaction and return all decisions."""
        self.stop_if_refused(table, row_pk)
        if self.warnings:
            raise ConfirmationRequired(self.warnings)
        session.add_all(self._entries(table, row_pk, [d for d in self.decisions
                                                      if d.outcome == "confirmed"]))
        return list(self.decisions)

    @staticmethod
    def _entries(table: str, row_pk: object, decisions: list[Decision]) -> list[JournalEntry]:
        user_id, username = current_actor()
        return [JournalEntry(
            at=dt.datetime.now(dt.UTC), user_id=user_id, username=username,
            action="policy", table_name=table, row_pk=str(row_pk), before=None,
            after={"right": decision.code, "decision": decision.outcome,
                   "message": decision.message},
        ) for decision in decisions]
