"""Each home panel is shown only to a user holding every right it declares, and the
demo roles' homes are what their rights open (views/workplaces/declared.py)."""

from __future__ import annotations

import re

import pytest

from security.catalogue import load_catalogue
from tests.contract_rows import n, page
from tests.support import make_role, make_user, unit
from views.workplaces import declared  # noqa: F401  (declares the panels)
from views.workplaces.panels import PANELS

WIRED = [p for p in PANELS if p.data is not None]


def panels_on(response) -> set[str]:
    """Return the keys of the panels a home page shows."""
    assert response.status_code == 200
    return set(re.findall(r'data-panel="([a-z_]+)"', page(response)))


def holding(session, login, values: dict[str, str], home="MSK-TVR", scope="own_subtree"):
    """Log in a fresh user whose one role holds `values` (others at their defaults)."""
    k = n()
    role = make_role(session, f"Роль рабочего стола {k}", {"scope.data": scope, **values})
    make_user(session, f"wp_user{k}", roles=[role], home_unit=unit(session, home))
    return login(f"wp_user{k}")


def granted(code: str, minimum: str | None) -> str:
    """Return the stored value that grants `code` at `minimum` (yes for a flag)."""
    return minimum if minimum is not None else "yes"


def withheld(code: str, minimum: str | None) -> str:
    """Return the value just below what the panel needs."""
    right = load_catalogue().right(code)
    if minimum is None:
        return "no"
    levels = [str(v) for v in right.values]
    return levels[levels.index(minimum) - 1]


@pytest.mark.parametrize("panel", WIRED, ids=[p.key for p in WIRED])
def test_a_panel_needs_each_of_its_rights(session, login, panel):
    needs = {code: granted(code, minimum) for code, minimum in panel.needs}
    assert panel.key in panels_on(holding(session, login, needs).get("/"))
    for code, minimum in panel.needs:
        short = {**needs, code: withheld(code, minimum)}
        assert panel.key not in panels_on(holding(session, login, short).get("/")), \
            f"{panel.key} shown without {code} >= {minimum}"


HOMES = {
    "registrar": {"patients", "today_vouchers", "referrals"},
    "accountant": {"contracts_ending", "limits", "figures", "patients"},
    "branch_head": {"figures", "patients", "today_vouchers", "referrals", "contracts_ending",
                    "limits"},
    "manager": {"queue"},
    "assistant": {"queue"},
    "admin": {p.key for p in WIRED},
    "client_user": set(),
    "doctor": {"patients"},
}


@pytest.mark.parametrize("username", sorted(HOMES))
def test_the_demo_roles_homes(login, username):
    assert panels_on(login(username).get("/")) == HOMES[username]


def test_without_panels_the_home_lists_the_sections(login):
    home = page(login("client_user").get("/"))
    assert 'class="uchet-tile"' in home and "Статистика" in home


def test_every_section_is_one_click_away(login):
    home = page(login("registrar").get("/"))
    assert 'href="/sections/"' in home
    sections = page(login("registrar").get("/sections/"))
    assert "Талоны" in sections and "Пациенты" in sections
    assert "Роли и права доступа" not in sections  # not a registrar's section


def test_the_drift_panel_needs_the_rights_administration(login):
    assert "roles_drift" in panels_on(login("admin").get("/"))
    assert "roles_drift" not in panels_on(login("registrar").get("/"))
