"""The change journal reads like a record of work: the row's name, field labels,
linked rows' names instead of ids, choice labels, the author's full name, and only
what changed, before → after side by side."""

from __future__ import annotations

import re

from sqlalchemy import select

from models.journal import JournalEntry
from tests.contract_rows import page, patient
from tests.voucher_rows import voucher_user


def test_a_new_voucher_reads_as_labels_and_names(session, login):
    client, author = voucher_user(session, login, {})
    add = client.get("/voucherview/add")
    assert add.status_code == 200
    person = patient(session, last_name="Журналов")
    session.commit()
    made = client.post(f"/voucherview/add?patient={person.id}", data={
        "service_date": "01.12.2026", "kind": "prepaid", "patient": str(person.id),
        "branch": str(person.home_branch_id), "confirm": "y"})
    assert made.status_code == 302, page(made)[:2000]
    entry = session.scalar(select(JournalEntry).where(
        JournalEntry.table_name == "vch_voucher", JournalEntry.action == "insert")
        .order_by(JournalEntry.id.desc()))
    admin = login("admin")
    shown = page(admin.get(f"/journalview/show/{entry.id}"))
    diff = re.search(r'id="journal-diff">(.*?)</table>', shown, re.S).group(1)
    assert "Журналов" in diff and "Предоплатный" in diff and "01.12.2026" in diff
    assert "patient_id" not in diff and "kind" not in diff and ">prepaid<" not in diff
    assert "version" not in diff and "Версия" not in diff
    assert f"{author.get_full_name()} ({author.username})" in shown
    listed = page(admin.get("/journalview/list/"))
    assert f"{author.get_full_name()} ({author.username})" in listed
