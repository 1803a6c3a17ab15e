"""«Импорт талонов» over HTTP: vouchers grouped from line rows, priced by the voucher
rules (list price, a typed price needs its right), only the user's branches, per-row
Russian errors with nothing written, an idempotent re-run, the right on every channel."""

from __future__ import annotations

import io
from decimal import Decimal

from sqlalchemy import select

from models.rollups import BranchDay
from models.vouchers import Voucher, VoucherLine
from tests.contract_rows import count, user_with
from tests.imports.import_rows import csv_bytes, run, text
from tests.voucher_rows import BASE, PAID_PRICE, ago, close_period, patient, service

HEADER = ["Номер талона", "Код филиала", "Дата", "Фамилия", "Имя", "Отчество",
          "Дата рождения", "Код услуги", "Количество", "Цена", "Скидка, %"]


def row(number, person, item, *, branch="MSK-TVR", day=None, quantity=1, price="",
        discount=""):
    return [number, branch, (day or ago(3)).strftime("%d.%m.%Y"), person.last_name,
            person.first_name, person.middle_name, person.birth_date.strftime("%d.%m.%Y"),
            item.code, quantity, price, discount]


def importer(session, login, **rights):
    return user_with(session, login, {**BASE, "import.vouchers": "yes", **rights})


def imported(session, number) -> list[Voucher]:
    session.expire_all()
    return list(session.scalars(select(Voucher).where(Voucher.external_number == number)))


def _figures(session, day) -> tuple:
    from tests.support import unit

    session.expire_all()
    row = session.get(BranchDay, (unit(session, "MSK-TVR").id, day))
    return (row.visits, row.cost) if row else (0, Decimal(0))


def test_lines_group_into_vouchers_priced_and_a_rerun_changes_nothing(session, login):
    a, b = patient(session), patient(session)
    first, second = service(session), service(session)
    session.commit()
    before = _figures(session, ago(3))
    client = importer(session, login, **{"voucher.apply_discount": "yes"})
    data = csv_bytes(HEADER, row("Т-1", a, first), row("Т-1", a, second, quantity=2),
                     row("Т-2", b, first, price="1500,00", discount="10"))
    preview, done = run(client, "vouchers", data)
    assert "Будет добавлено 3" in text(preview) and "Строк с ошибками 0" in text(preview)
    assert "Файл загружен." in text(done)
    [one] = imported(session, "Т-1")
    assert (one.patient_id, one.line_count, one.total) == (a.id, 2, PAID_PRICE * 3)
    assert {(x.service_id, x.quantity, x.price, x.payer_kind, x.state, x.service_date)
            for x in one.lines} == {(first.id, 1, PAID_PRICE, "patient", "rendered", ago(3)),
                                    (second.id, 2, PAID_PRICE, "patient", "rendered", ago(3))}
    [two] = imported(session, "Т-2")
    assert (two.line_count, two.total) == (1, Decimal("1350.00"))
    # The branch's statistics for the day count both vouchers (the rollups follow).
    after = _figures(session, ago(3))
    assert (after[0] - before[0], after[1] - before[1]) == (
        2, PAID_PRICE * 3 + Decimal("1350.00"))
    # The same file again: every line found, nothing added.
    again, done = run(client, "vouchers", data)
    assert "Без изменений 3" in text(again) and "Будет добавлено 0" in text(again)
    assert count(session, VoucherLine, VoucherLine.voucher_id.in_([one.id, two.id])) == 3
    assert len(imported(session, "Т-1")) == 1


def test_row_errors_in_russian_and_nothing_written(session, login):
    a = patient(session)
    item = service(session)
    close_period(session, ago(10))
    session.commit()
    client = importer(session, login)
    data = csv_bytes(HEADER, row("Т-3", a, item),
                     row("Т-4", a, item, branch="SPB-NEV"),           # not his branch
                     row("Т-5", a, item, price="999,00"),              # typed price: a right
                     row("Т-6", a, item, day=ago(20)),                 # closed period
                     [*row("Т-7", a, item)[:7], "НЕТ-ТАКОЙ", 1, "", ""])
    preview, _ = run(client, "vouchers", data, confirm=False)
    page = text(preview)
    assert "Строк с ошибками 4" in page
    assert "Нет филиала с кодом «SPB-NEV» среди ваших" in page
    assert "Цену услуги меняет только пользователь с правом" in page
    assert "Отчётный период закрыт по" in page
    assert "Нет действующей услуги с кодом «НЕТ-ТАКОЙ»" in page
    assert "Загрузить" not in page.replace("загрузить снова", "")
    assert not imported(session, "Т-3")
    # With the price right the typed price goes in.
    allowed = importer(session, login, **{"voucher.change_price": "yes"})
    _, done = run(allowed, "vouchers", csv_bytes(HEADER, row("Т-5", a, item, price="999,00")))
    assert "Файл загружен." in text(done)
    assert imported(session, "Т-5")[0].total == Decimal("999.00")


def test_the_right_is_required_on_every_channel(session, login):
    a = patient(session)
    item = service(session)
    session.commit()
    refused = user_with(session, login, {**BASE, "import.attachments": "yes"})
    data = csv_bytes(HEADER, row("Т-8", a, item))
    for response in (refused.get("/imports/vouchers/"),
                     refused.get("/imports/vouchers/template"),
                     refused.post("/imports/vouchers/preview",
                                  data={"file": (io.BytesIO(data), "a.csv")},
                                  content_type="multipart/form-data")):
        assert response.status_code in (302, 403), response.status_code
        assert "/imports/vouchers/job" not in response.headers.get("Location", "")
    hub = text(refused.get("/imports/"))
    assert "Импорт прикреплений" in hub and "Импорт талонов" not in hub
    allowed = importer(session, login)
    assert allowed.get("/imports/vouchers/").status_code == 200
    assert allowed.get("/imports/vouchers/template").status_code == 200
    assert not imported(session, "Т-8")
