"""`flask uchet roles ...`: a role's history of rights and rollback from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.extensions import db
from core import actor

roles_cli = AppGroup("roles", help="Роли: история прав и откат.")


def _role(name: str):
    from flask_appbuilder.security.sqla.models import Role
    from sqlalchemy import select

    role = db.session.scalar(select(Role).where(Role.name == name))
    if role is None:
        raise click.UsageError(f"Роль «{name}» не найдена")
    return role


@roles_cli.command("history")
@click.argument("role_name")
def history_command(role_name: str) -> None:
    """Print the role's saved changes, newest first: number, when, who, what changed."""
    from services.admin.history import changes, kind_label, lines

    for change in changes(db.session, _role(role_name).id):
        click.echo(f"#{change.id} {change.at:%d.%m.%Y %H:%M} {change.username} "
                   f"{kind_label(change)}")
        for line in lines(change):
            click.echo(f"    {line.right}: {line.before} → {line.after}")


@roles_cli.command("rollback")
@click.argument("role_name")
@click.option("--to", "change_id", required=True, type=int,
              help="Номер изменения из `flask uchet roles history`")
@click.option("--after", is_flag=True,
              help="Вернуть состояние после этого изменения (по умолчанию — до него)")
@click.option("--user", "username", default="cli", show_default=True,
              help="Кто откатывает (для журнала)")
def rollback_command(role_name: str, change_id: int, after: bool, username: str) -> None:
    """Restore the role's rights as they were before (or after) change CHANGE_ID."""
    from core.errors import UchetError
    from services.admin.history import rollback

    role = _role(role_name)
    token = actor.set_actor(None, username)
    try:
        changed = rollback(db.session, role.id, change_id, "after" if after else "before")
    except UchetError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        actor.reset_actor(token)
    click.echo(f"Права роли «{role_name}» восстановлены, изменено прав: {changed}")
