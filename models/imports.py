"""The import log: who imported which file into what, when, and with what outcome."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

STATUS_LABELS = {
    "done": _l("Загружено"),
    "refused": _l("Отклонено"),
    "failed": _l("Сбой"),
    "cancelled": _l("Отменено"),
}


class ImportLog(Model):
    """One run of an import (committed, refused, failed or cancelled)."""

    __tablename__ = "import_log"
    __label__ = _l("Журнал импорта")
    __table_args__ = (Index("ix_import_log_at", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                            info={"label": _l("Когда")})
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    username: Mapped[str] = mapped_column(String(256), nullable=False, default="",
                                          info={"label": _l("Пользователь")})
    kind: Mapped[str] = mapped_column(String(50), nullable=False, info={"label": _l("Импорт")})
    filename: Mapped[str] = mapped_column(String(255), nullable=False, default="",
                                          info={"label": _l("Файл")})
    status: Mapped[str] = mapped_column(String(20), nullable=False,
                                        info={"label": _l("Результат")})
    rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    inserted: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    errors: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict | None] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"{self.kind} {self.filename} ({self.status})"
