"""The rules of a voucher's header, as the seed's «Документы / Талоны» rights set
them: closed period, future dates, days and hours allowed for changes, other
doctors' vouchers, the doctor of a voucher with services, a prepaid voucher's
doctor, empty medical staff or diagnosis (allow / warn / forbid, through
`security.policies.Policies`), and the access level «Редактирование талонов из
ЭМК» for vouchers formed in the EMR.

Each refusal raises ValidationError naming the rule in Russian (Forbidden for a
missing right); a warning is recorded in the save's Policies and returned as text.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select

from core.errors import Conflict, ValidationError
from models.base import fk_value, stored_value
from models.staff import Employee
from models.vouchers import EMR_RIGHT, VOUCHER_KINDS, Voucher
from security.policies import Policies
from services.admin.params import check_open
from services.dates import local_now, utc_now

OTHERS_RIGHT = "voucher.others_edit_delete"


def is_emr(voucher: Voucher | None) -> bool:
    """Return True for a voucher formed in the EMR (its stored source decides)."""
    return voucher is not None and (stored_value(voucher, "source") or voucher.source) == "emr"


def check_emr_access(voucher: Voucher | None, rights, action: str) -> None:
    """Refuse to `action` ("edit" or "delete") a voucher formed in the EMR below that
    level of «Редактирование талонов из ЭМК»; other vouchers pass.

    Raises Forbidden.
    """
    if not is_emr(voucher):
        return
    if action == "delete":
        text = _l("Талон сформирован в ЭМК: удаляет его только пользователь с уровнем "
                  "«удаление» права «%(right)s»")
    else:
        text = _l("Талон сформирован в ЭМК: меняет его только пользователь с уровнем "
                  "«изменение» права «%(right)s»")
    rights.require(EMR_RIGHT, action, refusal=text)


def _number(rights, code: str) -> int:
    return int(rights.value(code) or 0)


def is_own(session, voucher: Voucher, user_id: int | None) -> bool:
    """Return True when the voucher's main doctor is the user (the seed's «свой» talon)."""
    doctor_id = fk_value(voucher, "doctor_id")
    if doctor_id is None or user_id is None:
        return False
    return session.scalar(select(Employee.user_id).where(Employee.id == doctor_id)) == user_id


def check_dates(session, voucher: Voucher, rights, today: dt.date,
                now: dt.datetime) -> None:
    """Refuse a date in the closed period, in the future without the right, or beyond the
    days allowed after the service date; refuse changes past the hours allowed after
    the voucher was created.

    Raises ValidationError.
    """
    state = sa_inspect(voucher)
    stored_date = stored_value(voucher, "service_date")
    check_open(session, fk_value(voucher, "branch_id"), voucher.service_date, stored_date,
               rights=rights)
    check_day(voucher.service_date, stored_date, rights, today)
    hours = _number(rights, "voucher.edit_hours")
    if hours and state.persistent and voucher.created_on is not None \
            and now - voucher.created_on > dt.timedelta(hours=hours):
        raise ValidationError(
            _("Талон меняется не позже %(n)s ч. после создания", n=hours))


def check_day(service_date: dt.date, stored_date: dt.date | None, rights,
              today: dt.date) -> None:
    """Refuse a voucher date in the future without the right, or beyond the days allowed
    after the service date (the closed period is `check_open`'s). Plain values: the
    voucher screen and the voucher import share it.

    Raises ValidationError.
    """
    if service_date > today:
        rights.require("voucher.future_date", field="service_date",
                       refusal=_l("Дата талона в будущем: нужно право «%(right)s»"))
    days = _number(rights, "voucher.edit_days")
    earliest = min(d for d in (service_date, stored_date) if d is not None)
    if days and (today - earliest).days > days:
        raise ValidationError(
            _("Талоны создаются и меняются не позже %(n)s дн. после даты оказания услуги",
              n=days), field="service_date")


def check_doctor(is_doctor: bool, active: bool, name, field: str | None = None) -> None:
    """Refuse as a voucher's doctor an employee who is not a doctor or does not work
    (plain values: «Импорт талонов» checks its «Врач» column with it).

    Raises ValidationError (at `field` when given)."""
    if not is_doctor or not active:
        raise ValidationError(_("«%(d)s» не врач или не работает", d=name), field=field)


def check_staff_branch(staff_branch_id: int | None, branch_id: int | None, name,
                       field: str) -> None:
    """Refuse a doctor or nurse who works in another branch than the voucher's (the form
    offers only its branch's staff; plain values: «Импорт талонов» checks its «Врач» and
    «Медсестра» columns with it).

    Raises ValidationError at `field`."""
    if staff_branch_id != branch_id:
        raise ValidationError(_("Сотрудник «%(name)s» работает в другом филиале: в талоне "
                                "указывается персонал филиала талона", name=name),
                              field=field)


def check_staff(session, voucher: Voucher) -> None:
    """Refuse a voucher's doctor or nurse of another branch, and a doctor who is not a
    working doctor — what the form's choices hold, for a tampered form and the API.
    A stored voucher is checked only where it changes: a newly set doctor or nurse
    (all of it), or a new branch (its staff must work there). Staff who since moved or
    left do not lock their old vouchers against other edits.

    Raises ValidationError at the field."""
    branch_id = fk_value(voucher, "branch_id")
    persistent = sa_inspect(voucher).persistent
    moved = persistent and branch_id != stored_value(voucher, "branch_id")
    for field in ("doctor", "nurse"):
        staff_id = fk_value(voucher, f"{field}_id")
        if staff_id is None:
            continue
        changed = not persistent or staff_id != stored_value(voucher, f"{field}_id")
        if not (changed or moved):
            continue
        person = session.get(Employee, staff_id)  # mostly the identity map
        check_staff_branch(person.branch_id, branch_id, person, field)
        if field == "doctor" and changed:
            check_doctor(person.is_doctor, person.active, person, field)


def header_policies(checks: Policies, nurse_id, diagnosis_id) -> None:
    """Apply the policies on an empty medical staff or diagnosis (allow / warn / forbid).

    Raises PolicyRefused for a forbidding one."""
    checks.policy("voucher.without_staff", nurse_id is None,
                  _("Не указан медперсонал"), field="nurse")
    checks.policy("voucher.without_diagnosis", diagnosis_id is None,
                  _("Не указан диагноз МКБ-10"), field="diagnosis")
    checks.stop_if_refused()


def check_ownership(session, voucher: Voucher, rights, user_id: int | None) -> None:
    """Refuse to change or delete another doctor's voucher without «Редактирование и
    удаление талонов других врачей» (the stored doctor decides; a voucher without a
    doctor, such as a prepaid one, belongs to its author).

    Raises ValidationError.
    """
    if not sa_inspect(voucher).persistent or rights.allows(OTHERS_RIGHT):
        return
    doctor_id = stored_value(voucher, "doctor_id")
    if doctor_id is None:
        if stored_value(voucher, "created_by_id") == user_id:
            return
        raise rights.refused(OTHERS_RIGHT, refusal=_l(
            "Талон без врача создан другим пользователем: менять и удалять его можно только "
            "с правом «%(right)s»"))
    owner = session.scalar(select(Employee.user_id).where(Employee.id == doctor_id))
    if owner != user_id:
        raise rights.refused(OTHERS_RIGHT, refusal=_l(
            "Это талон другого врача: менять и удалять его можно только с правом «%(right)s»"))


def branch_from_attachment(session, voucher: Voucher, rights):
    """Return the branch «Автоматически подставлять филиал по прикреплению пациента»
    gives a voucher left without one: the individual branch of the patient's current
    attachment, else its contract's branch — when there is exactly one choice.

    Raises ValidationError asking for the branch otherwise.
    """
    if rights.flag("voucher.auto_branch") and voucher.service_date is not None:
        from models.contracts import Contract
        from models.org import Unit
        from models.patients import Attachment
        from models.programmes import Programme

        day = voucher.service_date
        current = session.scalars(select(Attachment).where(
            Attachment.patient_id == fk_value(voucher, "patient_id"),
            Attachment.valid_from <= day,
            (Attachment.valid_to.is_(None)) | (Attachment.valid_to >= day))).all()
        choices = {u.id for a in current for u in a.branches}
        if not choices:
            choices = set(session.scalars(
                select(Contract.branch_id).join(Programme, Programme.contract_id == Contract.id)
                .where(Programme.id.in_([a.programme_id for a in current]))))
        if len(choices) == 1:
            return session.get(Unit, choices.pop())
        if len(choices) > 1:
            raise ValidationError(_("У пациента несколько филиалов прикрепления: выберите "
                                    "филиал"), field="branch")
    raise ValidationError(_("Укажите филиал"), field="branch")


def check_branch_kind(session, voucher: Voucher) -> None:
    """Refuse a voucher whose «Филиал» is another kind of unit (a department, the
    network): the forms offer branches only, this holds for the API and the
    commands too — and the scope filter reads a voucher's branch as a branch
    (models.vouchers: `ScopePath.kinds`), so such a voucher would not be seen.

    Raises ValidationError.
    """
    from models.org import Unit, UnitKind

    unit = session.get(Unit, fk_value(voucher, "branch_id"))  # mostly the identity map
    if unit is not None and unit.kind != UnitKind.branch:
        raise ValidationError(_("Филиал талона должен быть филиалом, а не «%(kind)s»",
                                kind=unit.kind_label), field="branch")


def check_header(session, voucher: Voucher, rights, user_id: int | None, *,
                 today: dt.date | None = None, now: dt.datetime | None = None,
                 checks: Policies | None = None) -> list[str]:
    """Check a voucher's header before it is saved. Returns the warnings to confirm
    (also recorded in `checks`, the save's policy decisions, when given).

    Raises ValidationError for the first rule the voucher breaks (PolicyRefused
    for a forbidding policy).
    """
    today = today or local_now().date()
    now = now or utc_now()
    if voucher.kind not in VOUCHER_KINDS:
        raise ValidationError(_("Укажите вид талона"), field="kind")
    if voucher.service_date is None:
        raise ValidationError(_("Укажите дату талона"), field="service_date")
    if fk_value(voucher, "branch_id") is None:
        voucher.branch = branch_from_attachment(session, voucher, rights)
    check_branch_kind(session, voucher)
    check_staff(session, voucher)
    state = sa_inspect(voucher)
    if state.persistent:
        check_emr_access(voucher, rights, "edit")
    check_dates(session, voucher, rights, today, now)
    check_ownership(session, voucher, rights, user_id)
    doctor_changed = state.persistent and \
        fk_value(voucher, "doctor_id") != stored_value(voucher, "doctor_id")
    if doctor_changed and voucher.line_count:
        rights.require("voucher.change_doctor_with_services", field="doctor", refusal=_l(
            "В талоне уже есть услуги: врача меняет только пользователь с правом «%(right)s»"))
    if voucher.kind == "prepaid" and fk_value(voucher, "doctor_id") is not None:
        rights.require("voucher.prepaid_doctor", field="doctor", refusal=_l(
            "Врача в предоплатном талоне указывает только пользователь с правом «%(right)s»"))
    if voucher.kind == "deposit" and fk_value(voucher, "contract_id") is None:
        raise ValidationError(_("Укажите депозитный договор"), field="contract")
    if voucher.kind != "deposit" and fk_value(voucher, "contract_id") is not None:
        raise ValidationError(_("Договор указывается только в депозитном талоне"),
                              field="contract")
    if state.persistent:
        _follow_lines(voucher)
    checks = checks if checks is not None else Policies(rights=rights, name_rights=False)
    header_policies(checks, fk_value(voucher, "nurse_id"), fk_value(voucher, "diagnosis_id"))
    return checks.warnings


def check_voucher_save(session, voucher: Voucher, rights, *, confirmed: bool) -> None:
    """Save rule of a voucher (screen, API): a stale copy is refused, then the header
    rules; their warnings pass once `confirmed`, and are journaled then.

    Raises Conflict (another user saved the voucher since it was read),
    ValidationError, Forbidden, or ConfirmationRequired with the warnings.
    """
    state = sa_inspect(voucher)
    if state.persistent:
        stored = stored_value(voucher, "version")
        if voucher.version != stored:
            raise Conflict(_("Талон уже изменил другой пользователь: откройте его "
                             "заново, ваши изменения не сохранены"), field="version")
        voucher.version = stored + 1
    else:
        voucher.created_by_id = rights.user_id
        voucher.version = 1
    checks = Policies(rights=rights, confirmed=confirmed, name_rights=False)
    check_header(session, voucher, rights, rights.user_id, checks=checks)
    checks.settle(session, Voucher.__tablename__, voucher.id if state.persistent else "new")


def _follow_lines(voucher: Voucher) -> None:
    """Carry a stored voucher's new date and branch to its lines (their copies drive
    limits and statistics); refuse the move when a line is already paid or invoiced.

    Raises ValidationError.
    """
    branch_id = fk_value(voucher, "branch_id")
    if voucher.service_date == stored_value(voucher, "service_date") and \
            branch_id == stored_value(voucher, "branch_id"):
        return
    if any(line.state in ("paid", "invoiced") for line in voucher.lines):
        raise ValidationError(_("В талоне есть оплаченные или выставленные в счёт услуги: "
                                "дата и филиал талона не меняются"), field="service_date")
    for line in voucher.lines:
        line.service_date, line.branch_id = voucher.service_date, branch_id


def check_voucher_delete(session, voucher: Voucher, rights, user_id: int | None,
                         today: dt.date | None = None) -> None:
    """Refuse to delete a voucher in the closed period, past the days allowed, of
    another doctor, or with lines that were paid or invoiced (those are reversed,
    not deleted).

    Raises ValidationError.
    """
    today = today or local_now().date()
    check_emr_access(voucher, rights, "delete")
    check_dates(session, voucher, rights, today, utc_now())
    check_ownership(session, voucher, rights, user_id)
    settled = [line for line in voucher.lines if line.state in ("paid", "invoiced")]
    if settled:
        raise ValidationError(_("В талоне есть оплаченные или выставленные в счёт услуги "
                                "(%(n)s): такой талон не удаляется, услуги отменяются",
                                n=len(settled)))
    if voucher.lines:
        rights.require("voucher.delete_services", refusal=_l(
            "Талон с услугами удаляет только пользователь с правом «%(right)s»"))
