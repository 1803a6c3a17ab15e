"""Demo payers, contracts, programmes, patients and attachments
(demo.contracts): the data obey the rules the screens enforce, and the
branches the rights tests use own rows of every kind."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models.contracts import (
    Contract,
    InstalmentLine,
    InsuranceTerms,
    PaymentGuarantee,
    PrepaymentSchemeTemplate,
    guarantee_programme,
)
from models.org import Unit, UnitKind
from models.parties import Individual, Insurer, Organisation
from models.patients import Attachment, Patient, name_key
from models.programmes import Programme, ProgrammeCodeTemplate
from services.contracts.instalments import check_schedule
from services.contracts.patients import check_attachment, check_patient
from services.contracts.rules import PAYERS, check_contract, within
from tests.support import unit


class AllRights:
    """Rights of an administrator: every yes/no right is granted."""

    def flag(self, _code: str) -> bool:
        return True

    def allows(self, _code: str, _minimum: str | None = None) -> bool:
        return True


def _all(session, model):
    return session.scalars(select(model).order_by(model.id)).all()


def _contract(session, number: str) -> Contract:
    return session.scalar(select(Contract).where(Contract.number == number))


# --- contracts --------------------------------------------------------------------------


def test_every_contract_passes_the_contract_rules(session):
    contracts = _all(session, Contract)
    assert {c.kind for c in contracts} == {"oms", "dms", "organisation", "prepaid", "deposit"}
    for contract in contracts:
        check_contract(session, contract, AllRights())  # with its attachments and schedule
        payers = [f for f in ("insurer", "organisation", "individual")
                  if getattr(contract, f"{f}_id") is not None]
        assert len(payers) == 1 and payers[0] in PAYERS[contract.kind], contract.number
        if contract.kind in ("prepaid", "deposit"):
            assert contract.amount > 0 and contract.payment_scheme != "postpaid", contract.number


def test_every_instalment_schedule_adds_up_to_its_contract_amount(session):
    totals = dict(session.execute(select(InstalmentLine.contract_id, func.sum(
        InstalmentLine.amount)).group_by(InstalmentLine.contract_id)).all())
    assert totals, "the demo has no instalment schedule"
    for contract_id, total in totals.items():
        contract = session.get(Contract, contract_id)
        assert contract.kind == "prepaid" and contract.payment_scheme == "instalments"
        assert Decimal(total) == contract.amount, contract.number
        check_schedule(contract, [(line.due_date, line.amount) for line in contract.instalments])
    prepaid = _contract(session, "ПД-2026/003")
    assert prepaid.amount == Decimal("60000.00") and len(prepaid.instalments) == 3


def test_the_contracts_the_brief_asks_for(session):
    dms = _contract(session, "ДМС-2026/001")
    assert (dms.kind, dms.branch.code, dms.insurer is not None) == ("dms", "MSK-TVR", True)
    assert (dms.valid_from, dms.valid_to) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert dms.insurance_terms.policy_cost == Decimal("45000.00")
    network = _contract(session, "ДМС-С-2026/002")
    assert network.network and network.branch.code == "MSK-MAR"
    assert sorted(u.code for u in network.branches) == ["MSK-ARB", "MSK-TVR"]
    deposit = _contract(session, "ДЕП-2026/005")
    assert (deposit.kind, deposit.branch.code, deposit.amount) == (
        "deposit", "MSK-ARB", Decimal("20000.00"))
    assert deposit.individual is not None and deposit.payment_scheme == "prepaid"
    oms = _contract(session, "ОМС-2026/001")
    assert oms.kind == "oms" and oms.branch.code == "MSK-TVR"
    assert oms.insurance_terms.insurance == "oms" and oms.insurance_terms.period_months == 12
    assert _contract(session, "СПБ-ОРГ-2025/017").branch.code == "SPB-NEV"
    # only the network contract lists served branches
    assert [c.number for c in _all(session, Contract) if c.branches] == [network.number]


def test_the_dms_programmes_have_limited_services_and_the_terms_policy_cost(session):
    dms = _contract(session, "ДМС-2026/001")
    programmes = session.scalars(select(Programme).where(Programme.contract_id == dms.id)).all()
    assert sorted(p.name for p in programmes) == ["Амбулаторно-поликлиническая помощь",
                                                  "Стоматология"]
    for programme in programmes:
        assert 10 <= len(programme.services) <= 20, programme.name
        assert all(s.max_count and s.max_count > 0 for s in programme.services), programme.name
        assert len({s.service_id for s in programme.services}) == len(programme.services)
        assert programme.max_cost > 0
        assert programme.policy_cost == dms.insurance_terms.policy_cost
        assert programme.code == programme.code_template.pattern.format(
            contract=dms.number, n=programme.code[-1])


def test_books_templates_terms_and_schemes(session):
    assert len(_all(session, InsuranceTerms)) == 2
    assert len(_all(session, ProgrammeCodeTemplate)) == 2
    schemes = _all(session, PrepaymentSchemeTemplate)
    assert len(schemes) == 2
    for scheme in schemes:
        assert sum(s.share for s in scheme.steps) == 100, scheme.code


def test_every_guarantee_lies_in_its_contract_and_names_its_programmes(session):
    guarantees = _all(session, PaymentGuarantee)
    assert len(guarantees) >= 2
    named = Counter()
    # The link table is read directly: PaymentGuarantee.programmes is not a list yet.
    for guarantee_id, contract_id in session.execute(
            select(guarantee_programme.c.guarantee_id, Programme.contract_id)
            .join(Programme, Programme.id == guarantee_programme.c.programme_id)):
        assert session.get(PaymentGuarantee, guarantee_id).contract_id == contract_id
        named[guarantee_id] += 1
    for guarantee in guarantees:
        contract = guarantee.contract
        assert within(guarantee.valid_from, guarantee.valid_to, contract.valid_from,
                      contract.valid_to), guarantee.number
        assert named[guarantee.id] >= 1, guarantee.number


# --- patients ---------------------------------------------------------------------------


def test_patients_are_plausible(session):
    patients = _all(session, Patient)
    assert 280 <= len(patients) <= 320
    for patient in patients:
        check_patient(session, patient)
        assert dt.date(1940, 1, 1) <= patient.birth_date <= dt.date(2020, 12, 31)
        ending = ("ич",) if patient.sex == "m" else ("на",)
        assert patient.middle_name.endswith(ending), patient.full_name
        assert patient.phone and patient.category is not None, patient.full_name
    with_snils = [p.snils for p in patients if p.snils]
    assert len(set(with_snils)) == len(with_snils) >= len(patients) - 1
    branches = Counter(p.home_branch.code for p in patients)
    all_branches = session.scalars(select(Unit.code).where(Unit.kind == UnitKind.branch.value))
    assert set(branches) == set(all_branches)
    assert branches.most_common(3)[-1][1] >= 40
    assert {code for code, _n in branches.most_common(3)} == {"MSK-TVR", "MSK-ARB", "SPB-NEV"}


def test_exactly_one_duplicate_pair_is_flagged(session):
    flagged = session.scalars(select(Patient).where(Patient.possible_duplicate)).all()
    assert len(flagged) == 2
    first, second = flagged
    assert first.id != second.id
    for field in ("last_name", "first_name", "middle_name", "birth_date"):
        assert getattr(first, field) == getattr(second, field), field
    assert {first.home_branch.code, second.home_branch.code} == {"MSK-TVR"}
    # and no other two patients share a name and a birth date
    groups = session.execute(select(Patient.name_key, Patient.birth_date, func.count())
                             .group_by(Patient.name_key, Patient.birth_date)
                             .having(func.count() > 1)).all()
    assert groups == [(name_key(first.last_name, first.first_name, first.middle_name),
                       first.birth_date, 2)]


# --- attachments ------------------------------------------------------------------------


def test_every_attachment_passes_the_attachment_rules(session):
    attachments = _all(session, Attachment)
    assert len(attachments) >= 80
    for attachment in attachments:
        check_attachment(session, attachment)
        contract = attachment.contract
        if attachment.valid_to is None:
            assert contract.valid_to is None, contract.number
        serving = {contract.branch_id, *(u.id for u in contract.branches)}
        assert {u.id for u in attachment.branches} <= serving
    assert any(a.branches for a in attachments)
    assert any(a.valid_to is None for a in attachments)
    assert any(a.valid_to is not None and a.valid_to < a.contract.valid_to
               for a in attachments if a.contract.valid_to)


def test_about_eighty_moscow_patients_are_attached_to_dms_programmes(session):
    rows = session.execute(select(Attachment.patient_id, Patient.home_branch_id, Contract.kind)
                           .join(Patient).join(Programme).join(Contract)).all()
    msk = {unit(session, "MSK-TVR").id, unit(session, "MSK-ARB").id}
    moscow = {p for p, home, kind in rows if home in msk and kind == "dms"}
    assert 70 <= len(moscow) <= 100
    spb = unit(session, "SPB-NEV").id
    assert any(home == spb and kind == "organisation" for _p, home, kind in rows)
    # one patient has two periods under one programme (they must not overlap)
    pairs = Counter(session.execute(select(Attachment.patient_id, Attachment.programme_id)).all())
    assert max(pairs.values()) == 2


# --- own and foreign rows for the rights tests ------------------------------------------


def _owned(session, code: str) -> dict[str, int]:
    branch = unit(session, code).id

    def count(query):
        return session.scalar(select(func.count()).select_from(query.subquery()))

    contracts = select(Contract.id).where(Contract.branch_id == branch)
    return {
        "contract": count(contracts),
        "programme": count(select(Programme.id).where(Programme.contract_id.in_(contracts))),
        "guarantee": count(select(PaymentGuarantee.id)
                           .where(PaymentGuarantee.contract_id.in_(contracts))),
        "patient": count(select(Patient.id).where(Patient.home_branch_id == branch)),
        "attachment": count(select(Attachment.id).join(Patient)
                            .where(Patient.home_branch_id == branch)),
        "organisation": count(select(Organisation.id).where(Organisation.unit_id == branch)),
        "individual": count(select(Individual.id).where(Individual.unit_id == branch)),
        "insurer": count(select(Insurer.id).where(Insurer.unit_id == branch)),
    }


@pytest.mark.parametrize("code", ["MSK-TVR", "SPB-NEV"])
def test_branch_owns_rows_of_every_kind(session, code):
    owned = _owned(session, code)
    assert all(owned.values()), owned


def test_network_owns_the_shared_parties(session):
    net = unit(session, "NET").id
    insurers = session.scalars(select(Insurer).where(Insurer.unit_id == net)).all()
    assert len(insurers) >= 3
    assert session.scalar(select(func.count()).select_from(Organisation)
                          .where(Organisation.unit_id == net)) >= 2
