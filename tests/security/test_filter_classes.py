"""The API's filter operations (`opr` "eq", "gt"...) read each column by its own
type whatever screens the process has shown before.

FAB maps an `opr` to the class of the last filter object built anywhere in the
process (flask_appbuilder.models.filters.map_args_filter). Uchet's typed filters
(dates as ДД.ММ.ГГГГ, booleans as «да»/«нет», decimals as numbers) are distinct
classes, so once a screen had built a boolean column's filters the vouchers API
compared a date with a boolean reading and answered an empty list (`WHERE 0 = 1`).
"""

from __future__ import annotations

from urllib.parse import quote

from flask_appbuilder.models.filters import map_args_filter

from models.refbooks import Department
from tests.contract_rows import patient
from tests.voucher_rows import VOUCHERS, ago, iso, voucher
from views.datamodel import BOOLEAN_FILTERS, DATE_FILTERS, DECIMAL_FILTERS


def _api_ids(client, *filters: tuple[str, str, str]) -> set[int]:
    """Return the ids the vouchers API lists for the (column, opr, rison value) filters."""
    rison = ",".join(f"(col:{c},opr:{o},value:{v})" for c, o, v in filters)
    q = quote(f"(filters:!({rison}),page_size:100)")
    response = client.get(f"{VOUCHERS}?q={q}")
    assert response.status_code == 200, response.get_json()
    return set(response.get_json()["ids"])


def test_a_screen_list_does_not_change_the_api_date_filter(session, login):
    day = ago(77)
    row = voucher(session, patient(session), day=day)
    session.commit()
    admin = login("admin")
    # A screen with boolean and date columns in its search form, then the API:
    # one process, as in production.
    assert admin.get("/voucherview/list/").status_code == 200
    assert admin.get("/departmentview/list/").status_code == 200
    assert _api_ids(admin, ("service_date", "eq", f"'{iso(day)}'")) == {row.id}
    assert _api_ids(admin, ("service_date", "gt", f"'{iso(ago(78))}'"),
                    ("service_date", "lt", f"'{iso(ago(76))}'")) == {row.id}


def test_every_typed_filter_class_last_built_leaves_the_api_right(session, login):
    """Whichever typed class FAB's map holds for "eq", a date, a boolean and a
    decimal column each filter with their own."""
    day = ago(78)
    row = voucher(session, patient(session), day=day)
    session.commit()
    admin = login("admin")
    active = {d.id for d in session.query(Department).filter(Department.active.is_(True))}
    assert active
    for classes in (BOOLEAN_FILTERS, DECIMAL_FILTERS, DATE_FILTERS):
        map_args_filter["eq"] = classes[0]
        assert _api_ids(admin, ("service_date", "eq", f"'{iso(day)}'")) == {row.id}, \
            classes[0]
        departments = admin.get("/api/v1/departments/?q=" + quote(
            "(filters:!((col:active,opr:eq,value:!t)),page_size:100)"))
        assert departments.status_code == 200, departments.get_json()
        assert set(departments.get_json()["ids"]) == active, classes[0]
