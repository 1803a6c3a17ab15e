"""What-if: what a user would gain or lose if drafted role values were saved —
screens, buttons, rows per screen (counts and a sample), fields, and the rules
that would start or stop refusing. Read-only: the drafted rights are computed in
memory (`security.draft`), the rows are counted by the same scope filter as the
screens; nothing is flushed or written (the tests compare the tables before and after).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from security.catalogue import load_catalogue
from security.draft import draft_rights
from security.effective import SCOPE_RIGHT, EffectiveRights, resolve, right_label
from security.fields import visible
from security.scope import scoped

#: Permission names as the buttons read (FAB names; unlisted ones are "other actions").
BUTTONS = {
    "can_list": _l("список"), "can_show": _l("карточка"), "can_add": _l("создать"),
    "can_edit": _l("изменить"), "can_delete": _l("удалить"),
    "muldelete": _l("удалить выбранные"), "can_export": _l("выгрузка"),
    "can_download": _l("скачать"),
}
SAMPLE = 5


@dataclass(frozen=True)
class Screen:
    """A screen as the view registry knows it: permission name, Russian label,
    its model (None for a page without rows) and its hidden-field rules."""

    name: str
    label: str
    model: type | None = None
    field_rights: Mapping[str, str] = field(default_factory=dict)
    field_labels: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Rows:
    """A screen's rows the user sees before and after, with samples of the change."""

    screen: str
    before: int
    after: int
    shown: list[str]
    hidden: list[str]


@dataclass
class Preview:
    """Everything that changes for the user; empty lists when nothing does."""

    screens_gained: list[str] = field(default_factory=list)
    screens_lost: list[str] = field(default_factory=list)
    buttons_gained: list[str] = field(default_factory=list)
    buttons_lost: list[str] = field(default_factory=list)
    rows: list[Rows] = field(default_factory=list)
    fields_shown: list[str] = field(default_factory=list)
    fields_hidden: list[str] = field(default_factory=list)
    rules_looser: list[str] = field(default_factory=list)
    rules_stricter: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Return True when nothing would change for the user."""
        return not any(vars(self).values())


def _opens(rights: EffectiveRights, screen: Screen) -> bool:
    return any(view == screen.name for _perm, view in rights.permissions)


def _lists(rights: EffectiveRights, screen: Screen) -> bool:
    return rights.can("can_list", screen.name)


def _ids(model, rights):
    return scoped(select(model.id), rights, model=model)


def _count(session: Session, model, rights) -> int:
    return session.scalar(scoped(select(func.count()).select_from(model), rights,
                                 model=model)) or 0


def _sample(session: Session, model, rights_in, rights_out) -> list[str]:
    """Return up to SAMPLE rows `rights_in` sees and `rights_out` does not."""
    stmt = (scoped(select(model), rights_in, model=model)
            .where(model.id.not_in(_ids(model, rights_out))).order_by(model.id).limit(SAMPLE))
    return [str(row) for row in session.scalars(stmt)]


def _rows(session: Session, screen: Screen, before: EffectiveRights,
          after: EffectiveRights) -> Rows | None:
    model = screen.model
    sees_before, sees_after = _lists(before, screen), _lists(after, screen)
    if model is None or not (sees_before or sees_after):
        return None
    was = _count(session, model, before) if sees_before else 0
    will = _count(session, model, after) if sees_after else 0
    shown = hidden = []
    if sees_before and sees_after:
        shown = _sample(session, model, after, before)
        hidden = _sample(session, model, before, after)
    elif sees_after:
        shown = [str(r) for r in session.scalars(
            scoped(select(model), after, model=model).order_by(model.id).limit(SAMPLE))]
    else:
        hidden = [str(r) for r in session.scalars(
            scoped(select(model), before, model=model).order_by(model.id).limit(SAMPLE))]
    if was == will and not shown and not hidden:
        return None
    return Rows(screen.label, was, will, shown, hidden)


def _rules(before: EffectiveRights, after: EffectiveRights, governing: set[str],
           preview: Preview) -> None:
    catalogue = load_catalogue()
    for code, right in catalogue.rights.items():
        if code in governing or code == SCOPE_RIGHT:
            continue
        old, new = before.value(code), after.value(code)
        if old == new or right.merge == "union":
            continue
        line = str(_l("«%(right)s»: %(old)s → %(new)s", right=right_label(code),
                      old=right_label(code, old), new=right_label(code, new)))
        looser = catalogue.rank(code, new) > catalogue.rank(code, old)
        (preview.rules_looser if looser else preview.rules_stricter).append(line)


def preview(session: Session, user, drafts: Mapping[int, Mapping[str, str]],
            screens: list[Screen], governing: set[str]) -> Preview:
    """Return what changes for `user` if `drafts` ({role id: {code: value}}) were saved.

    `governing` is the set of rights that govern screens (their changes show as
    screens and buttons; the others as rules). Raises RightValueError for a
    drafted value the catalogue does not allow."""
    before = resolve(session, user)
    after = draft_rights(session, user, drafts)
    result = Preview()
    for screen in screens:
        opened, opens = _opens(before, screen), _opens(after, screen)
        if opens and not opened:
            result.screens_gained.append(screen.label)
        elif opened and not opens:
            result.screens_lost.append(screen.label)
        for perm, word in BUTTONS.items():
            had, has = before.can(perm, screen.name), after.can(perm, screen.name)
            if had != has and opened and opens:
                target = result.buttons_gained if has else result.buttons_lost
                target.append(f"{screen.label}: {word}")
        for name, rule in screen.field_rights.items():
            if not (opened or opens):
                continue
            was, will = visible(before, rule), visible(after, rule)
            if was != will:
                label = f"{screen.label}: {screen.field_labels.get(name, name)}"
                (result.fields_shown if will else result.fields_hidden).append(label)
        rows = _rows(session, screen, before, after)
        if rows is not None:
            result.rows.append(rows)
    _rules(before, after, governing, result)
    return result
