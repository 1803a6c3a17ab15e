"""`flask rights ...`: inspect rights from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

rights_cli = AppGroup("rights", help="Права доступа.")


@rights_cli.command("explain")
@click.option("--user", "username", required=True, help="Логин пользователя")
@click.option("--view", "view_name", required=True, help="Экран или API, например UnitView")
@click.option("--permission", default="can_list", show_default=True)
@click.option("--pk", default=None, help="Ключ записи (для проверки области данных)")
def explain_command(username: str, view_name: str, permission: str, pk: str | None) -> None:
    """Print which rights and scope decide the access; exit 1 when it is denied."""
    from flask import current_app

    from security.explain import explain

    try:
        result = explain(current_app.appbuilder.session, username, view_name, permission, pk)
    except LookupError as exc:
        # Exit 2 (usage error), so a typo is not mistaken for "access denied" (exit 1).
        raise click.UsageError(str(exc)) from None
    for line in result.lines:
        click.echo(line)
    click.echo("ДОСТУП РАЗРЕШЁН" if result.allowed else "ДОСТУП ЗАПРЕЩЁН")
    raise SystemExit(0 if result.allowed else 1)


@rights_cli.command("list")
@click.option("--section", default=None, help="Код раздела каталога")
def list_command(section: str | None) -> None:
    """Print the catalogue: code, kind, default and Russian label of every right."""
    from security.catalogue import load_catalogue

    catalogue = load_catalogue()
    for right in catalogue.rights.values():
        if section and right.section != section:
            continue
        click.echo(f"{right.code:45} {right.kind:7} {right.default:14} {right.ru}")
