"""The voucher and contract cards read as documents: the title names the number and
date, the lines are a table with the total under it, no technical field, and only
the actions the user's rights allow."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from tests.contract_rows import attachment, contract, page, patient, programme, user_with
from tests.voucher_rows import attached, covered_line, line, service, voucher, voucher_user


def actions(html: str) -> list[str]:
    """Return the labels of a card's actions."""
    area = re.search(r'class="uchet-doc-actions no-print">(.*?)</div>', html, re.S).group(1)
    return [" ".join(t.split()) for t in re.findall(r"</i>([^<]+)</", area)]


def test_the_voucher_card_is_a_document(session, login):
    covered = service(session)
    person, link = attached(session, [covered])
    owner = voucher(session, person, day=dt.date(2026, 12, 5))
    covered_line(session, owner, covered, link, quantity=2)
    line(session, owner, service(session), price="700.00")
    session.commit()
    client, _ = voucher_user(session, login, {"voucher.recalculate": "yes",
                                              "voucher.split_payments": "yes"})
    card = page(client.get(f"/voucherview/show/{owner.id}"))
    assert f"Талон № {owner.id} от 05.12.2026" in card
    assert "Версия" not in card and 'name="version"' not in card
    lines = re.search(r'id="voucher-lines">(.*?)</table>', card, re.S).group(1)
    assert lines.count("<tr") == 4  # head, two lines, total
    assert "По прикреплению" in lines and "За счёт пациента" in lines
    total = re.search(r'id="voucher-total">([^<]*)<', card).group(1)
    assert total.replace("\u00a0", " ") == "3 100,00"
    assert actions(card) == ["Добавить услугу", "Изменить", "Пересчитать", "Печать"]
    assert "Разделить оплату" in lines  # on the covered line only
    assert lines.count("Разделить оплату") == 1


def test_the_voucher_cards_actions_follow_the_rights(session, login):
    owner = voucher(session, patient(session))
    covered = service(session)
    person, link = attached(session, [covered])
    covered_line(session, voucher(session, person), covered, link)
    session.commit()
    reader, _ = voucher_user(session, login, {"voucher.other_vouchers": "view"})
    card = page(reader.get(f"/voucherview/show/{owner.id}"))
    assert actions(card) == ["Печать"]
    no_split, _ = voucher_user(session, login, {"voucher.split_payments": "no"})
    assert "Разделить оплату" not in page(no_split.get(f"/voucherview/show/{owner.id}"))
    # Recalculating from the card comes back to the card.
    recalc, _ = voucher_user(session, login, {"voucher.recalculate": "yes"})
    answer = recalc.post("/voucherview/action_post",
                         data={"action": "recalculate", "rowid": owner.id, "back": "card"})
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/voucherview/show/{owner.id}")


def test_a_voucher_outside_the_scope_has_no_card(session, login):
    theirs = voucher(session, patient(session, "SPB-NEV"), "SPB-NEV")
    session.commit()
    client, _ = voucher_user(session, login, {})
    assert client.get(f"/voucherview/show/{theirs.id}").status_code == 404


def test_the_contract_card_shows_programmes_limits_guarantees_and_schedule(session, login):
    from models.contracts import InstalmentLine, PaymentGuarantee

    agreement = contract(session, "MSK-TVR", signed_on=dt.date(2026, 1, 10))
    plan = programme(session, agreement, max_cost=Decimal("10000.00"))
    attachment(session, patient(session), plan, valid_from=dt.date.today() - dt.timedelta(days=5))
    session.add(PaymentGuarantee(
        contract=agreement, number="ГП-КАРТА", issued_on=dt.date(2026, 2, 1),
        valid_from=dt.date(2026, 2, 1), valid_to=dt.date(2026, 6, 30),
        amount=Decimal("5000.00"), programmes=[plan]))
    session.add(InstalmentLine(contract=agreement, due_date=dt.date(2026, 3, 1),
                               amount=Decimal("1500.00")))
    session.commit()
    keeper = user_with(session, login, {"contract.contracts": "delete",
                                        "contract.payment_guarantees": "yes",
                                        "contract.instalment_schemes": "yes"})
    card = page(keeper.get(f"/contractview/show/{agreement.id}"))
    assert f"Договор № {agreement.number} от 10.01.2026" in card
    programmes = re.search(r'id="contract-programmes">(.*?)</table>', card, re.S).group(1)
    assert plan.name in programmes and "10\u00a0000,00" in programmes
    assert "ГП-КАРТА" in card and "30.06.2026" in card and "1\u00a0500,00" in card
    assert actions(card) == ["Изменить", "Добавить медпрограмму", "Добавить гарантийное письмо",
                             "Схема рассрочки оплат", "Печать"]
    reader = user_with(session, login, {"contract.contracts": "view"})
    assert actions(page(reader.get(f"/contractview/show/{agreement.id}"))) == ["Печать"]
    elsewhere = user_with(session, login, {"contract.contracts": "delete"}, home="SPB-NEV")
    assert elsewhere.get(f"/contractview/show/{agreement.id}").status_code == 404


def test_the_voucher_card_reads_the_voucher_once_however_many_lines(session, login,
                                                                   count_queries):
    """A card opens as fast with five lines as with one: the voucher is read once, with
    its lines, their services and payers (no statement per line, no second reading of
    the voucher for the document after FAB's own)."""
    covered = service(session)
    person, link = attached(session, [covered])
    short, long = voucher(session, person), voucher(session, person)
    line(session, short, service(session))
    for _ in range(2):
        covered_line(session, long, covered, link)
        line(session, long, service(session))
    line(session, long, service(session), price="700.00")
    session.commit()
    client, _ = voucher_user(session, login, {"voucher.split_payments": "yes"})
    counted = {}
    for owner in (short, long):
        client.get(f"/voucherview/show/{owner.id}")  # per-process caches warm
        with count_queries() as statements:
            assert client.get(f"/voucherview/show/{owner.id}").status_code == 200
        # The test's own savepoints are not the card's.
        counted[owner.id] = [s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE"))]
    assert len(counted[long.id]) == len(counted[short.id]), "\n---\n".join(counted[long.id])
    voucher_reads = [s for s in counted[long.id]
                     if re.search(r"^\s*SELECT\b.*\bFROM vch_voucher\b", s, re.S)]
    assert len(voucher_reads) == 1, "\n---\n".join(voucher_reads)
