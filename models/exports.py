"""The export log: each file exported to accounting (who, when, what period of which
branch, in which format, how many documents and lines, its checksum) and the file
itself, kept in chunks so that a past export downloads again from any web worker."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import label
from models.org import Unit
from models.scoping import BRANCH_ONLY, ScopePath

EXPORT_KINDS = {"cash": _l("Выручка по кассе"), "invoices": _l("Счета контрагентам")}
EXPORT_FORMATS = {"xml": _l("XML для 1С (EnterpriseData)"), "xlsx": _l("Таблица XLSX")}
#: The right of «Экспорт в бухгалтерию» each kind of export answers to.
KIND_RIGHTS = {"cash": "export.cash_revenue", "invoices": "export.counterparty_invoices"}


class ExportLog(Model):
    """One finished export of a period of a branch."""

    __tablename__ = "export_log"
    __label__ = _l("Журнал экспорта")
    # Written only by services.export.run, for a branch it checked is a branch.
    __scope__ = ScopePath(column="branch_id", kinds=BRANCH_ONLY)
    __table_args__ = (
        # «Was this period of this branch exported before?» and the log, newest first.
        Index("ix_export_log_period", "kind", "branch_id", "period_from", "period_to"),
        CheckConstraint("kind IN ('cash', 'invoices')", name="ck_export_log_kind"),
        CheckConstraint("fmt IN ('xml', 'xlsx')", name="ck_export_log_fmt"),
        CheckConstraint("period_to >= period_from", name="ck_export_log_period"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False,
                                            info=label(_l("Когда")))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL"), index=True)
    username: Mapped[str] = mapped_column(String(256), nullable=False, default="",
                                          info=label(_l("Пользователь")))
    kind: Mapped[str] = mapped_column(String(10), nullable=False, info=label(_l("Что")))
    fmt: Mapped[str] = mapped_column(String(5), nullable=False, info=label(_l("Формат")))
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="RESTRICT"),
                                           nullable=False, info=label(_l("Филиал")))
    period_from: Mapped[dt.date] = mapped_column(Date, nullable=False,
                                                 info=label(_l("Период с")))
    period_to: Mapped[dt.date] = mapped_column(Date, nullable=False,
                                               info=label(_l("Период по")))
    final: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                        info=label(_l("Период закрыт")))
    repeat_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("export_log.id", ondelete="SET NULL"), info=label(_l("Повторная выгрузка")))
    documents: Mapped[int] = mapped_column(Integer, nullable=False, default=0,
                                           info=label(_l("Документов")))
    lines: Mapped[int] = mapped_column(Integer, nullable=False, default=0,
                                       info=label(_l("Строк")))
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2), nullable=False, default=0,
                                            info=label(_l("Сумма")))
    checksum: Mapped[str] = mapped_column(String(64), nullable=False,
                                          info=label(_l("Контрольная сумма (SHA-256)")))
    size: Mapped[int] = mapped_column(Integer, nullable=False, default=0,
                                      info=label(_l("Размер, байт")))
    filename: Mapped[str] = mapped_column(String(255), nullable=False,
                                          info=label(_l("Файл")))
    job_id: Mapped[str | None] = mapped_column(String(64))

    branch: Mapped[Unit] = relationship(Unit, info=label(_l("Филиал")))

    def __repr__(self) -> str:
        return self.filename


class ExportChunk(Model):
    """A piece (at most `services.export.store.CHUNK` bytes) of an exported file."""

    __tablename__ = "export_chunk"
    log_id: Mapped[int] = mapped_column(ForeignKey("export_log.id", ondelete="CASCADE"),
                                        primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
