"""Личный кабинет / Статистика: a corporate client's visits, patients, tests and cost
for a period, by office and by day or month, with a chart, a drill-down to the
patients of an office, an XLSX export and a JSON answer. Every channel reads
`services.cabinet.stats`, which applies the user's scope to the referring office
and reads the cost only under «Просмотр информации о стоимости». The figures are read
through `app.replica.read_session()`: the read replica when UCHET_REPLICA_URL is set
(the office list and the 404 checks stay on the primary).
"""

from __future__ import annotations

import datetime as dt

from flask import Response, abort, jsonify, request
from flask_appbuilder import BaseView, expose, has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.replica import read_session
from core.errors import UchetError, ValidationError
from models.org import Unit
from security.access_log import note_reads
from security.effective import current
from security.scope import scoped
from services.cabinet.dashboard import month_against_last
from services.cabinet.stats import GROUPINGS, patient_visits, patients, presets, statistics
from services.contracts.rules import money
from services.dates import parse_date
from views.base import screen_command
from views.cabinet.chart import chart
from views.refbook import XLSX_MIME, xlsx_book
from views.registry import register

#: Units that send patients: the corporate client, its head office and branches.
OFFICE_KINDS = ("client", "head_unit", "client_branch")


def _day(name: str, default: dt.date) -> dt.date:
    """Return the date argument `name` (default when absent).

    Raises ValidationError for a value that is not a date.
    """
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    day = parse_date(raw)
    if day is None:
        raise ValidationError(_("Дата «%(v)s» не распознана", v=raw[:20]))
    return day


def _query() -> dict:
    """Return the period, grouping and office the request asks for (this month by
    default). Raises ValidationError for a bad value."""
    today = dt.date.today()
    start = _day("start", today.replace(day=1))
    end = _day("end", today)
    grouping = request.args.get("grouping", "day")
    unit = request.args.get("unit", "").strip()
    if unit and not (unit.isdecimal() and len(unit) < 10):
        raise ValidationError(_("Подразделение не найдено"))
    return {"start": start, "end": end, "grouping": grouping,
            "unit_id": int(unit) if unit else None}


class CabinetStatisticsView(BaseView):
    """The statistics page, its export, its JSON and the patients of one office."""

    route_base = "/cabinet/statistics"
    default_view = "show"
    governing_right = "cabinet.statistics"
    base_permissions = ["can_show"]

    def _offices(self):
        """The offices in the user's scope that send patients (for the office filter)."""
        return self.appbuilder.session.scalars(scoped(
            select(Unit).where(Unit.kind.in_(OFFICE_KINDS)).order_by(Unit.name),
            current())).all()

    def _refused(self, exc: UchetError):
        return self.render_template("uchet/cabinet_statistics.html", stats=None,
                                    error=str(exc), offices=self._offices(),
                                    args=request.args, groupings=GROUPINGS), 400

    @expose("/", methods=["GET"])
    @has_access
    def show(self):
        """The page: this month against the last, filters, chart and tables."""
        session = read_session()
        query = {}

        def read():
            query.update(_query())
            return statistics(session, current(), **query)

        return screen_command(
            read,
            done=lambda stats: self.render_template(
                "uchet/cabinet_statistics.html", stats=stats, error=None,
                offices=self._offices(), args=request.args, groupings=GROUPINGS,
                presets=presets(),
                chart=chart(stats.by_period, stats.start, stats.end, stats.grouping),
                month=month_against_last(session, current(), unit_id=query["unit_id"]),
                money=money),
            again=self._refused, flash_refusal=False)

    @expose("/export", methods=["GET"])
    @has_access
    @permission_name("show")
    def export(self):
        """The same figures as an XLSX workbook (without the cost column when hidden)."""
        return screen_command(
            lambda: statistics(read_session(), current(), **_query()),
            done=self._workbook, flash_refusal=False,
            again=lambda exc: Response(str(exc), status=400, mimetype="text/plain"))

    @staticmethod
    def _workbook(stats):
        header = [str(_l("Подразделение / период")), str(_l("Визиты")),
                  str(_l("Пациенты")), str(_l("Тесты"))]
        if stats.with_cost:
            header.append(str(_l("Стоимость, руб.")))
        # One sheet per table of the page, each with its own header.
        units = [_cells(row, stats.with_cost) for row in [*stats.by_unit, stats.total]]
        periods = [_cells(row, stats.with_cost) for row in stats.by_period]
        by_period = [str(_l("Период")), *header[1:]]
        name = f"statistics_{stats.start:%Y%m%d}_{stats.end:%Y%m%d}.xlsx"
        body = xlsx_book([(_("По подразделениям"), header, units),
                          (_("По дням") if stats.grouping == "day" else _("По месяцам"),
                           by_period, periods)])
        return Response(body, mimetype=XLSX_MIME,
                        headers={"Content-Disposition": f"attachment; filename={name}"})

    @expose("/data", methods=["GET"])
    @has_access
    @permission_name("show")
    def data(self):
        """The same figures as JSON (the cost key is absent when hidden)."""
        return screen_command(
            lambda: statistics(read_session(), current(), **_query()),
            flash_refusal=False, again=lambda exc: (jsonify(message=str(exc)), 400),
            done=lambda stats: jsonify(
                start=stats.start.isoformat(), end=stats.end.isoformat(),
                grouping=stats.grouping, total=_json(stats.total, stats.with_cost),
                by_unit=[_json(r, stats.with_cost) for r in stats.by_unit],
                by_period=[_json(r, stats.with_cost) for r in stats.by_period]))

    @expose("/unit/<int:unit_id>", methods=["GET"])
    @has_access
    @permission_name("show")
    def unit(self, unit_id: int):
        """The patients one office sent in the period; 404 outside the user's scope."""
        rights = current()
        office = self.appbuilder.session.scalar(
            scoped(select(Unit).where(Unit.id == unit_id), rights))
        if office is None:
            abort(404)
        query = {}

        def read():
            query.update(_query())
            return patients(read_session(), rights, query["start"], query["end"], office.id)

        return screen_command(read, again=self._refused, flash_refusal=False,
                              done=lambda rows: self.render_template(
                                  "uchet/cabinet_patients.html", office=office, rows=rows,
                                  with_cost=rights.allows("cabinet.see_cost"),
                                  start=query["start"], end=query["end"], money=money))

    @expose("/patient/<int:patient_id>", methods=["GET"])
    @has_access
    @permission_name("show")
    def patient(self, patient_id: int):
        """One patient's visits and tests sent by the user's offices; 404 when none of
        his visits in the period came from them."""
        rights = current()
        query = {}

        def read():
            query.update(_query())
            return patient_visits(read_session(), rights, patient_id,
                                  query["start"], query["end"])

        def done(visits):
            if not visits:
                abort(404)
            note_reads([patient_id], "cabinet", type(self).__name__)
            return self.render_template(
                "uchet/cabinet_patient.html", patient=visits[0].patient, visits=visits,
                with_cost=rights.allows("cabinet.see_cost"), money=money,
                start=query["start"], end=query["end"])

        return screen_command(read, again=self._refused, flash_refusal=False, done=done)


def _cells(row, with_cost: bool) -> list:
    cells = [row.label, row.visits, row.patients, row.tests]
    if with_cost:
        cells.append(row.cost)
    return cells


def _json(row, with_cost: bool) -> dict:
    body = {"key": row.key if isinstance(row.key, (int, type(None))) else str(row.key),
            "label": row.label, "visits": row.visits, "patients": row.patients,
            "tests": row.tests}
    if with_cost:
        body["cost"] = str(row.cost)
    return body


register(CabinetStatisticsView, name="CabinetStatistics", label=_l("Статистика"),
         category="cabinet", icon="fa-bar-chart")
