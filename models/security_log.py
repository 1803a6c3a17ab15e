"""The security journals: sign-ins, rights and password changes (`SecurityEvent`),
and who read which patient's data (`PatientAccess`).

Both are append-only and outlive the users and patients they name (no foreign
keys), like the change journal."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

EVENT_KINDS = {
    "login": _l("Вход"),
    "login_failed": _l("Неудачный вход"),
    "locked_out": _l("Вход заблокирован (слишком много попыток)"),
    "logout": _l("Выход"),
    "password_changed": _l("Смена своего пароля"),
    "password_reset": _l("Сброс пароля администратором"),
    "sessions_ended": _l("Завершение сеансов"),
    "user_created": _l("Создание пользователя"),
    "user_activated": _l("Пользователь включён"),
    "user_deactivated": _l("Пользователь отключён"),
    "roles_changed": _l("Изменение ролей пользователя"),
    "role_created": _l("Создание роли"),
    "role_deleted": _l("Удаление роли"),
    "rights_changed": _l("Изменение прав роли"),
    "totp_enrolled": _l("Подключение второго фактора"),
    "totp_failed": _l("Неверный код второго фактора"),
    "totp_recovery_used": _l("Вход по коду восстановления"),
}

CHANNELS = {
    "show": _l("Карточка"),
    "list": _l("Список"),
    "export": _l("Выгрузка"),
    "api": _l("API"),
    "cabinet": _l("Кабинет клиента"),
}


class SecurityEvent(Model):
    """One security event: who (the actor), what (kind), about whom (the target user)."""

    __tablename__ = "security_event"
    __label__ = _l("Журнал безопасности")
    __table_args__ = (
        Index("ix_security_event_at", "at"),
        Index("ix_security_event_user", "user_id", "at"),
        Index("ix_security_event_target", "target_user_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                            server_default=func.now())
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(128), nullable=False)
    target_user_id: Mapped[int | None] = mapped_column(Integer)
    target: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(500))

    @property
    def kind_label(self) -> str:
        """Return the Russian name of the event."""
        return str(EVENT_KINDS.get(self.kind, self.kind))

    @property
    def detail_label(self) -> str:
        """Return the details in words: a rights change names the rights and values
        by the catalogue's labels («Прайс-лист» = «Нет доступа»), not by their codes."""
        if self.kind != "rights_changed" or not self.detail or ": " not in self.detail:
            return self.detail or ""  # a list shows a None as «None»
        role, _sep, changes = self.detail.partition(": ")
        # Looked up at call time: the screen may have put its own reading there.
        return f"{role}: " + "; ".join(right_change_words(part) for part in changes.split(", "))


def right_change_words(part: str) -> str:
    """Return one stored rights change as it reads on screen. Stored text until the
    journal's screen (views.admin.security_log), which may read the rights
    catalogue, puts its own reading here: models do not look up to security."""
    return part


class PatientAccess(Model):
    """One read of one patient's data by one user through one channel."""

    __tablename__ = "patient_access"
    __label__ = _l("Журнал доступа к пациентам")
    __table_args__ = (
        Index("ix_patient_access_patient", "patient_id", "at"),
        Index("ix_patient_access_user", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                            server_default=func.now())
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(128), nullable=False)
    patient_id: Mapped[int] = mapped_column(Integer, nullable=False)
    channel: Mapped[str] = mapped_column(String(20), nullable=False)
    screen: Mapped[str] = mapped_column(String(100), nullable=False)
    address: Mapped[str | None] = mapped_column(String(64))

    @property
    def channel_label(self) -> str:
        """Return the Russian name of the channel (card, list, export...)."""
        return str(CHANNELS.get(self.channel, self.channel))


class UserTotp(Model):
    """A user's enrolled second factor: the TOTP secret his authenticator app
    holds (encrypted) and his unused recovery codes (hashed)."""

    __tablename__ = "user_totp"
    __label__ = _l("Второй фактор пользователей")

    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"),
                                         primary_key=True)
    # Encrypted under a key derived from SECRET_KEY (security.totp.seal).
    secret: Mapped[str] = mapped_column(String(255), nullable=False)
    # The unused recovery codes' keyed hashes, space-separated (security.totp.recovery_hash).
    recovery: Mapped[str | None] = mapped_column(Text)
    enrolled_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                     server_default=func.now())
    # The time step of the last code accepted: a code is good once (RFC 6238 §5.2),
    # so one read over a shoulder or from a proxy log cannot sign in again.
    last_step: Mapped[int | None] = mapped_column(BigInteger)
