"""The voucher list's search form offers the doctors and departments the user may
choose now: the drop-downs are kept between pages (views.search_choices), and a
doctor added, renamed or moved to another branch, or a department added, shows in
(or leaves) them at the next page."""

from __future__ import annotations

import json
import re

from models.refbooks import BaseDepartment, Department
from tests.support import unit
from tests.voucher_rows import employee


def field(client, name: str) -> str:
    """Return the HTML of the list's search field `name` (FAB puts it in the page as JSON)."""
    body = client.get("/voucherview/list/").get_data(as_text=True)
    match = re.search(rf'"{name}": ("(?:\\u003c|<)(?:[^"\\]|\\.)*")', body)
    assert match, f"no search field {name}"
    return json.loads(match.group(1))


def test_a_new_renamed_or_moved_doctor_shows_at_the_next_page(session, login):
    client = login("registrar")
    assert "Новиков" not in field(client, "doctor")  # the drop-down is now kept
    doctor = employee(session, "MSK-TVR")
    doctor.last_name = "Новиков"
    session.commit()
    assert f'value="{doctor.id}">Новиков А.<' in field(client, "doctor")
    doctor.last_name = "Новикова"
    session.commit()
    assert f'value="{doctor.id}">Новикова А.<' in field(client, "doctor")
    doctor.branch = unit(session, "SPB-NEV")
    session.commit()
    assert f'value="{doctor.id}"' not in field(client, "doctor")  # not his branch now


def test_a_new_department_shows_at_the_next_page(session, login):
    client = login("registrar")
    assert "Кабинет новый" not in field(client, "department")
    base = session.query(BaseDepartment).first()
    session.add(Department(code="T-NEW-DEP", name="Кабинет новый", branch=unit(session, "MSK-TVR"),
                           base_department=base))
    session.commit()
    assert "Кабинет новый" in field(client, "department")
