"""«Импорт талонов» resolves each line's payer as the voucher screen does (the patient's
attachment valid on the date → its contract and programme price; else the patient at
the paid price; «Плательщик» chooses under the screen's rights) and stores the voucher's
doctor, nurse, diagnosis and referring office — over HTTP as the demo administrator,
who holds «Импорт талонов»; unknown values are Russian row errors with nothing written."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from models.vouchers import Voucher, VoucherLine
from tests.contract_rows import contract, count, n, patient
from tests.imports.import_rows import csv_bytes, run, text
from tests.imports.test_voucher_import import imported, importer
from tests.support import unit
from tests.voucher_rows import (
    DMS_PRICE,
    PAID_PRICE,
    ago,
    attached,
    category,
    diagnosis,
    employee,
    price_type,
    service,
)

HEADER = ["Номер талона", "Код филиала", "Дата", "Фамилия", "Имя", "Отчество",
          "Дата рождения", "Код услуги", "Количество", "Врач", "Медсестра", "Диагноз",
          "Направившее подразделение", "Плательщик"]


def row(number, person, item, *, doctor="", nurse="", icd="", office="", payer="",
        branch="MSK-TVR", quantity=1):
    return [number, branch, ago(3).strftime("%d.%m.%Y"), person.last_name,
            person.first_name, person.middle_name, person.birth_date.strftime("%d.%m.%Y"),
            item.code, quantity, doctor, nurse, icd, office, payer]


def full(person) -> str:
    return " ".join(p for p in (person.last_name, person.first_name, person.middle_name) if p)


def unique(prefix: str) -> str:
    return f"{prefix}-{n()}"


def test_attached_patient_gets_the_contracts_payer_and_price_and_staff_are_stored(
        session, login):
    covered, other = service(session), service(session)
    covered.insurance = "dms"  # the administrator holds «Разделение услуг по признаку ОМС/ДМС»
    person, link = attached(session, covered=[covered])
    stranger = patient(session)
    doctor, nurse = employee(session), employee(session, doctor=False)
    session.commit()
    t1, t2 = unique("ИТ"), unique("ИТ")
    staff = {"doctor": full(doctor), "nurse": full(nurse), "icd": "J06.9", "office": "CL1-B1"}
    data = csv_bytes(HEADER,
                     row(t1, person, covered, **staff),              # by the attachment
                     row(t1, person, other, **staff),                # not in the programme
                     row(t1, person, covered, payer="Пациент", quantity=2, **staff),
                     row(t2, stranger, covered))                     # not attached
    admin = login("admin")
    preview, done = run(admin, "vouchers", data)
    page = text(preview)
    assert "Будет добавлено 4" in page and "Строк с ошибками 0" in page, page[-2000:]
    # The preview shows the new columns with the file's values.
    assert "Направившее подразделение" in page and full(doctor) in page and "CL1-B1" in page
    assert "Файл загружен." in text(done)
    [voucher] = imported(session, t1)
    assert (voucher.doctor_id, voucher.nurse_id, voucher.diagnosis_id,
            voucher.referring_unit_id) == (doctor.id, nurse.id, diagnosis(session).id,
                                           unit(session, "CL1-B1").id)
    lines = {(x.service_id, x.quantity): x for x in voucher.lines}
    by_contract = lines[(covered.id, 1)]
    assert (by_contract.payer_kind, by_contract.attachment_id, by_contract.contract_id,
            by_contract.price, by_contract.price_type_id, by_contract.category_id) == (
        "attachment", link.id, link.programme.contract_id, DMS_PRICE,
        price_type(session, "DMS").id, category(session, "DMS-MSK").id)
    for paid in (lines[(other.id, 1)], lines[(covered.id, 2)]):
        assert (paid.payer_kind, paid.attachment_id, paid.contract_id, paid.price,
                paid.price_type_id) == ("patient", None, None, PAID_PRICE,
                                        price_type(session, "PAID").id)
    assert voucher.total == DMS_PRICE + PAID_PRICE * 3
    [alone] = imported(session, t2)
    assert (alone.doctor_id, alone.referring_unit_id) == (None, None)
    assert [(x.payer_kind, x.price) for x in alone.lines] == [("patient", PAID_PRICE)]
    # The same file again changes nothing.
    again, done = run(admin, "vouchers", data)
    assert "Без изменений 4" in text(again) and "Будет добавлено 0" in text(again)
    assert count(session, VoucherLine, VoucherLine.voucher_id.in_([voucher.id, alone.id])) == 4


def test_a_contract_in_the_payer_column_pays_through_the_patients_attachment(session, login):
    covered = service(session)
    covered.insurance = "dms"
    person, link = attached(session, covered=[covered])
    session.commit()
    number = unique("ИТ")
    admin = login("admin")
    _, done = run(admin, "vouchers", csv_bytes(
        HEADER, row(number, person, covered, payer=link.programme.contract.number)))
    assert "Файл загружен." in text(done)
    [line] = imported(session, number)[0].lines
    assert (line.payer_kind, line.attachment_id, line.price) == ("attachment", link.id,
                                                                 DMS_PRICE)


def test_unknown_values_are_russian_row_errors_and_nothing_is_written(session, login):
    item = service(session)
    person = patient(session)
    nurse = employee(session, doctor=False)
    elsewhere = employee(session, "SPB-NEV")
    session.commit()
    numbers = [unique("ИО") for _ in range(8)]
    data = csv_bytes(
        HEADER,
        row(numbers[0], person, item, doctor="Нетакого Иван Иванович"),
        row(numbers[1], person, item, doctor=full(elsewhere)),
        row(numbers[2], person, item, doctor=full(nurse)),
        row(numbers[3], person, item, icd="Z99.999"),
        row(numbers[4], person, item, office="НЕТ-ОФИСА"),
        row(numbers[5], person, item, payer="НЕТ-ДОГОВОРА"),
        row(numbers[6], person, item, office="MSK-TVR"),  # a branch, not a client's office
        row(numbers[7], person, item, nurse=full(nurse)),
        row(numbers[7], person, item, nurse=""),          # the same voucher, another nurse
    )
    admin = login("admin")
    preview, _ = run(admin, "vouchers", data, confirm=False)
    page = text(preview)
    assert "Строк с ошибками 8" in page, page[-3000:]
    assert "Нет сотрудника «Нетакого Иван Иванович» среди доступных вам" in page
    assert f"Сотрудник «{full(elsewhere)}» работает в другом филиале" in page
    assert f"«{full(nurse)}» не врач или не работает" in page
    assert "Нет диагноза с кодом МКБ-10 «Z99.999» в справочнике" in page
    assert "Нет подразделения клиента с кодом «НЕТ-ОФИСА» среди доступных вам" in page
    assert "Нет подразделения клиента с кодом «MSK-TVR» среди доступных вам" in page
    assert "Нет договора «НЕТ-ДОГОВОРА» среди доступных вам" in page
    assert "расходятся во враче, медсестре, диагнозе или направившем подразделении" in page
    # Each message stands in its column.
    for column in ("Врач", "Диагноз", "Направившее подразделение", "Плательщик"):
        assert re.search(rf"{column}\s+(Нет|Сотрудник|«)", page), column
    assert "Загрузить" not in page.replace("загрузить снова", "")
    session.expire_all()
    assert not session.scalars(select(Voucher).where(
        Voucher.external_number.in_(numbers))).all()


def test_choosing_the_payer_needs_the_screens_right(session, login):
    covered = service(session)
    person, _link = attached(session, covered=[covered])
    stranger = patient(session)
    other = contract(session)
    session.commit()
    numbers = [unique("ИП") for _ in range(2)]
    data = csv_bytes(HEADER, row(numbers[0], person, covered, payer="Пациент"),
                     row(numbers[1], stranger, covered, payer=other.number))
    refused = importer(session, login)
    preview, _ = run(refused, "vouchers", data, confirm=False)
    page = text(preview)
    assert "Строк с ошибками 2" in page
    assert "Плательщика выбирает только пользователь с правом" in page
    allowed = importer(session, login, **{"voucher.post_by_attachment": "yes"})
    preview, _ = run(allowed, "vouchers", data, confirm=False)
    page = text(preview)
    # The contract the patient is not attached to needs its own right.
    assert "Строк с ошибками 1" in page
    assert "За счёт договора без прикрепления проводит только пользователь с правом" in page
    both = importer(session, login, **{"voucher.post_by_attachment": "yes",
                                       "voucher.post_unattached_contract": "yes"})
    _, done = run(both, "vouchers", data)
    assert "Файл загружен." in text(done)
    [line] = imported(session, numbers[1])[0].lines
    # A contract without its own price category: the patient's paid price (the screen's).
    assert (line.payer_kind, line.contract_id, line.attachment_id, line.price) == (
        "contract", other.id, None, PAID_PRICE)
    [line] = imported(session, numbers[0])[0].lines
    assert (line.payer_kind, line.price) == ("patient", PAID_PRICE)


def test_a_user_without_the_import_right_is_refused(session, login):
    registrar = login("registrar")
    assert registrar.get("/imports/vouchers/").status_code in (302, 403)
    assert registrar.get("/imports/vouchers/template").status_code in (302, 403)
    template = login("admin").get("/imports/vouchers/template")
    assert template.status_code == 200
    header = [c.value for c in next(load_workbook(io.BytesIO(template.data)).active.rows)]
    assert header[-5:] == ["Врач", "Медсестра", "Диагноз", "Направившее подразделение",
                           "Плательщик"]


def test_programme_limits_apply_as_on_the_screen(session, login):
    """A count limit of 1 per period, one service already taken under the attachment:
    «запрещать» refuses the file's line; «списывать с пациента» moves it to the patient
    at his price, and a line of the same file counts against the limit too."""
    from tests.voucher_rows import covered_line, voucher

    item, free = service(session), service(session)
    person, link = attached(session, covered=[item, free], max_count=1)
    covered_line(session, voucher(session, person, day=ago(5)), item, link)
    session.commit()
    numbers = [unique("ИЛ") for _ in range(2)]
    data = csv_bytes(HEADER, row(numbers[0], person, item),
                     row(numbers[0], person, free), row(numbers[1], person, free))
    limited = {"voucher.post_ignore_limits": "no",
               "voucher.forbid_excess_to_patient": "no"}
    refused = importer(session, login, **limited,
                       **{"voucher.programme_count_exceeded": "forbid"})
    preview, _ = run(refused, "vouchers", data, confirm=False)
    page = text(preview)
    assert "Строк с ошибками 2" in page, page[-2000:]
    assert "Превышен лимит количества услуги по программе" in page
    assert not imported(session, numbers[0])
    moved = importer(session, login, **limited,
                     **{"voucher.programme_count_exceeded": "charge_patient"})
    _, done = run(moved, "vouchers", data)
    assert "Файл загружен." in text(done)
    first = {x.service_id: x for x in imported(session, numbers[0])[0].lines}
    assert (first[item.id].payer_kind, first[item.id].price) == ("patient", PAID_PRICE)
    assert (first[free.id].payer_kind, first[free.id].price) == ("attachment", DMS_PRICE)
    [second] = imported(session, numbers[1])[0].lines
    assert (second.payer_kind, second.price) == ("patient", PAID_PRICE)
    # Loaded again: nothing changes (the moved lines are found as they are).
    again, _ = run(moved, "vouchers", data, confirm=False)
    assert "Без изменений 3" in text(again)


def test_oms_and_dms_are_kept_apart_as_on_the_screen(session, login):
    """«Разделение услуг по признаку ОМС/ДМС»: an unmarked service is not paid by the DMS
    contract, and an OMS line does not join a voucher holding a DMS line."""
    from models.programmes import ProgrammeService
    from tests.contract_rows import attachment, programme

    dms_service, plain, oms_service = service(session), service(session), service(session)
    dms_service.insurance, oms_service.insurance = "dms", "oms"
    person, _ = attached(session, covered=[dms_service, plain])
    oms = programme(session, contract(session, kind="oms"),
                    price_type=price_type(session, "DMS"),
                    services=[ProgrammeService(service=oms_service)])
    attachment(session, person, oms, valid_from=ago(30))
    session.commit()
    numbers = [unique("ИС") for _ in range(3)]
    data = csv_bytes(HEADER, row(numbers[0], person, plain),
                     row(numbers[1], person, dms_service),
                     row(numbers[1], person, oms_service),
                     row(numbers[2], person, oms_service))
    split = importer(session, login, **{"params.split_oms_dms": "yes"})
    preview, _ = run(split, "vouchers", data, confirm=False)
    page = text(preview)
    assert "Строк с ошибками 2" in page, page[-2000:]
    assert "Услуга не отмечена признаком ДМС: по договору ДМС она не проводится" in page
    assert "В талоне уже есть услуги ДМС: услуги ОМС оформляются отдельным талоном" in page
    free = importer(session, login, **{"params.split_oms_dms": "no"})
    preview, _ = run(free, "vouchers", data, confirm=False)
    assert "Строк с ошибками 0" in text(preview)
