"""«Открыть лицевой счёт» on «Лицевые счета организаций»: an accountant opens by hand
the account of an organisation, an insurer or an individual (an advance, a deposit
from a new payer), over HTTP as a user of «Тверской» with «создание» on «Лицевые
счета организаций» — or with «просмотр» only."""

from __future__ import annotations

from sqlalchemy import select

from models.journal import JournalEntry
from models.money import Account
from tests.contract_rows import count, individual, insurer, page
from tests.money.rows import user_with
from tests.support import unit

URL = "/money/organisations/open/"
LIST = "/money/organisations/list/"


def _opener(login, session):
    return login(user_with(session, payment__organisation_accounts="create"))


def _open(client, session, kind: str, holder_id: int, branch: str = "MSK-TVR"):
    return client.post(URL, data={"kind": kind, f"holder_{kind}": str(holder_id),
                                  "branch": str(unit(session, branch).id)})


def _found(client, kind: str, text: str) -> dict[int, str]:
    answer = client.get(f"/money/organisations/holders/{kind}", query_string={"q": text})
    assert answer.status_code == 200
    return {row["id"]: row["text"] for row in answer.get_json()["results"]}


def _accounts(session, **holder) -> list[Account]:
    session.expire_all()
    return session.scalars(select(Account).filter_by(**holder)).all()


def test_opening_an_insurers_and_an_individuals_account_lands_on_its_card(login, session):
    client = _opener(login, session)
    listing = page(client.get(LIST))
    assert "Открыть лицевой счёт" in listing and URL in listing
    company, person = insurer(session), individual(session)
    form = page(client.get(URL))
    # The holder is found by typing: a word inside an insurer's name, the start of a
    # person's last name.
    word = company.name[len("СК «"):]
    assert _found(client, "insurer", word) == {company.id: company.name}
    assert person.id in _found(client, "individual", person.last_name[:-1])
    # In any case: typed in lower case, in upper case.
    assert _found(client, "insurer", word.lower()) == {company.id: company.name}
    assert person.id in _found(client, "individual", person.last_name.upper())
    # The user's own branch is offered chosen.
    assert f'<option value="{unit(session, "MSK-TVR").id}" selected>' in form
    for kind, row in (("insurer", company), ("individual", person)):
        answer = _open(client, session, kind, row.id)
        assert answer.status_code == 302, page(answer)
        (account,) = _accounts(session, **{f"{kind}_id": row.id})
        assert account.kind == kind and account.balance == 0
        assert answer.headers["Location"].endswith(f"/money/organisations/show/{account.id}")
        card = page(client.get(answer.headers["Location"]))
        assert f"Лицевой счёт № {account.id}" in card and "Лицевой счёт открыт" in card
        assert count(session, JournalEntry, JournalEntry.table_name == "money_account",
                     JournalEntry.row_pk == str(account.id),
                     JournalEntry.action == "insert") == 1


def test_a_second_account_in_the_same_branch_is_refused_at_the_field(login, session):
    client = _opener(login, session)
    company = insurer(session)
    assert _open(client, session, "insurer", company.id).status_code == 302
    (first,) = _accounts(session, insurer_id=company.id)
    answer = _open(client, session, "insurer", company.id)
    assert answer.status_code == 400
    text = page(answer)
    assert "У владельца уже есть лицевой счёт" in text and f"ЛС № {first.id}" in text
    assert f"/money/organisations/show/{first.id}" in text  # the link to it
    # What was typed is kept: the insurer stays chosen.
    assert f'<option value="{company.id}" selected>' in text
    assert len(_accounts(session, insurer_id=company.id)) == 1


def test_view_only_gets_no_button_and_is_refused(login, session):
    client = login(user_with(session, payment__organisation_accounts="view"))
    company = insurer(session)
    assert "Открыть лицевой счёт" not in page(client.get(LIST))
    assert client.get(URL).status_code == 403
    assert client.get("/money/organisations/holders/insurer?q=СК").status_code == 403
    assert _open(client, session, "insurer", company.id).status_code == 403
    assert _accounts(session, insurer_id=company.id) == []


def test_a_holder_or_branch_outside_the_scope_answers_404(login, session):
    client = _opener(login, session)
    foreign = insurer(session, owner="SPB-NEV")
    assert _found(client, "insurer", foreign.name) == {}
    assert _open(client, session, "insurer", foreign.id).status_code == 404
    assert _accounts(session, insurer_id=foreign.id) == []
    mine = individual(session)
    assert _open(client, session, "individual", mine.id, branch="SPB-NEV").status_code == 404
    assert _accounts(session, individual_id=mine.id) == []
