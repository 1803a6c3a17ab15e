"""The home panels of the back office and the cabinet, each with the rights it needs.

Which person sees which panel follows from the rights alone (security/presets.yaml):
a registrar's rights open the patient search, today's vouchers and the referrals; an
accountant's the contracts; a branch head's the figures; a personal manager's the
queue; an administrator's the users and rights.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from services.workplaces import admin, contracts, desk, figures, queue
from views.lookup import split_query
from views.workplaces.panels import panel

VOUCHERS = "voucher.other_vouchers"


def _patients(session, rights, _today, args) -> dict:
    name = (args.get("name") or "").strip()[:100]
    born_text = (args.get("born") or "").strip()[:10]
    words, _dates = split_query(name)
    _w, dates = split_query(born_text)
    born = dates[0] if dates else None
    searched = bool(words or born)
    return {"name": name, "born": born_text, "searched": searched,
            "bad_date": bool(born_text) and born is None,
            "rows": desk.find_patients(session, rights, words, born) if searched else [],
            "may_create": rights.allows(VOUCHERS, "create")}


def _today_vouchers(session, rights, today, _args) -> dict:
    return {**desk.todays_vouchers(session, rights, today), "today": today,
            "may_create": rights.allows(VOUCHERS, "create")}


def _referrals(session, rights, today, _args) -> dict:
    return desk.waiting_referrals(session, rights, today)


def _contracts(session, rights, today, _args) -> dict:
    return {"contracts": contracts.ending_contracts(session, rights, today),
            "guarantees": contracts.ending_guarantees(session, rights, today),
            "days": contracts.SOON_DAYS}


def _limits(session, rights, today, _args) -> dict:
    return {"rows": contracts.programmes_near_limit(session, rights, today),
            "share": int(contracts.NEAR_SHARE * 100)}


def _figures(session, rights, today, _args) -> dict:
    return {**figures.day_and_month(session, rights, today), "today": today}


def _queue(session, rights, _today, _args) -> dict:
    return {"clients": queue.queue(session, rights)}


def _users(session, rights, _today, _args) -> dict:
    return {"rows": admin.users_to_fix(session, rights)}


def _rights_changes(session, _rights, _today, _args) -> dict:
    return {"rows": admin.recent_rights_changes(session)}


panel("patients", _l("Поиск пациента"), needs=(("patient.registry", "view"),),
      data=_patients, order=10)
panel("today_vouchers", _l("Талоны за сегодня"), needs=((VOUCHERS, "create"),),
      data=_today_vouchers, order=20)
panel("referrals", _l("Направления к оформлению"),
      needs=((VOUCHERS, "create"), ("voucher.emr_create_prepaid", None)),
      data=_referrals, order=30)
panel("figures", _l("День и месяц в цифрах"),
      needs=((VOUCHERS, "view"), ("export.cash_revenue", "view")), data=_figures, order=5,
      wide=True)
panel("contracts_ending", _l("Договоры и гарантийные письма: скоро окончание"),
      needs=(("contract.contracts", "edit"), ("contract.payment_guarantees", None)),
      data=_contracts, order=40)
panel("limits", _l("Медпрограммы у лимита"), needs=(("contract.contracts", "edit"),),
      data=_limits, order=50)
panel("queue", _l("Очередь клиентов"), needs=(("cabinet.manager_cabinet", None),),
      data=_queue, order=15, wide=True)
panel("users_to_fix", _l("Пользователи без подразделения или роли"),
      needs=(("admin.users", "edit"),), data=_users, order=60)
panel("rights_changes", _l("Последние изменения прав"), needs=(("admin.rights", None),),
      data=_rights_changes, order=70)
ROLES_DRIFT = panel("roles_drift", _l("Роли, отличающиеся от типовых"),
                    needs=(("admin.rights", None),),
                    data=lambda session, _rights, _today, _args: {
                        "rows": admin.drifted_roles(session)}, order=65)
