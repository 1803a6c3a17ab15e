"""Command-line entry points: `flask uchet ...`, `flask demo ...`, `flask rights ...`."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.extensions import db
from core import actor

uchet_cli = AppGroup("uchet", help="Развёртывание и обслуживание Uchet.")
demo_cli = AppGroup("demo", help="Демонстрационные данные.")


def _sync() -> None:
    from security.sync import sync_all

    token = actor.set_actor(None, "deploy")
    try:
        sync_all(db.session, current_app.appbuilder)
        db.session.commit()
    finally:
        actor.reset_actor(token)
    click.echo("permissions, roles and rights are in step with the catalogue")


@uchet_cli.command("sync")
def sync_command() -> None:
    """Create FAB permissions, preset roles and rights; derive permissions from rights.

    Run once per deploy, after `flask db upgrade`, never in every worker.
    """
    _sync()


@uchet_cli.command("setup")
@click.option("--demo/--no-demo", default=True, show_default=True,
              help="Load the demo data into an empty database.")
def setup_command(demo: bool) -> None:
    """`flask db upgrade`, `flask uchet sync` and `flask demo load --if-empty` in one
    process (`make run`): the app starts once instead of three times, and each step
    does next to nothing when nothing changed."""
    from flask_migrate import upgrade

    upgrade()
    _sync()
    if demo:
        _load_demo(if_empty=True)


@uchet_cli.command("worker")
@click.option("--burst", is_flag=True, help="Run the queued jobs, then exit.")
def worker_command(burst: bool) -> None:
    """Run import jobs from Redis (REDIS_URL); start as many as you like, anywhere."""
    import redis
    from rq import Worker

    from services.imports.framework.jobs import QUEUE

    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("REDIS_URL is not set: without it imports run in the "
                                   "web process and need no worker")
    Worker([QUEUE], connection=redis.Redis.from_url(url)).work(burst=burst)


@uchet_cli.command("check")
def check_command() -> None:
    """Exit non-zero, naming them, when stored rights do not fit the catalogue."""
    from security.sync import check_stored_rights

    problems = check_stored_rights(db.session)
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    if problems:
        sys.exit(1)
    click.echo("stored rights fit the catalogue")


@uchet_cli.command("verify-money")
def verify_money_command() -> None:
    """Check the chain of posted money documents of every branch; exit non-zero
    naming the first break of each broken chain."""
    from services.money.chain import verify

    breaks = verify(db.session)
    for b in breaks:
        click.echo(f"break: branch {b.branch_id}, link {b.seq}, {b.doc_type} {b.doc_id}: "
                   f"{b.reason}", err=True)
    if breaks:
        sys.exit(1)
    click.echo("money chains hold")


@uchet_cli.command("money-recover")
def money_recover_command() -> None:
    """Settle the pending receipts of every register by their keys (after a crash)."""
    from sqlalchemy import select

    from models.money import Register
    from services.money.desk import recover

    for register in db.session.scalars(select(Register)).all():
        counts = recover(db.session, register, all_ages=True)
        click.echo(f"{register.serial}: confirmed {counts['confirmed']}, "
                   f"failed {counts['failed']}")


@uchet_cli.command("create-admin")
@click.option("--username", required=True)
@click.option("--email", required=True)
@click.option("--first-name", default="Администратор")
@click.option("--last-name", default="Системы")
@click.password_option()
def create_admin_command(username: str, email: str, first_name: str, last_name: str,
                         password: str) -> None:
    """Create the first administrator (after `flask uchet sync`)."""
    sm = current_app.appbuilder.sm
    role = sm.find_role(sm.auth_role_admin)
    if role is None:
        raise click.ClickException(
            "run `flask uchet sync` first: the administrator role is missing"
        )
    if sm.find_user(username=username):
        raise click.ClickException(f"user {username!r} already exists")
    token = actor.set_actor(None, "cli")
    try:
        user = sm.add_user(username, first_name, last_name, email, role, password=password)
    finally:
        actor.reset_actor(token)
    if not user:
        raise click.ClickException("the user could not be created (see the log)")
    click.echo(f"administrator {username!r} created")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when data exist.")
def demo_load_command(if_empty: bool) -> None:
    """Fill an empty database with a demo clinic network, clients and users (password demo)."""
    _load_demo(if_empty)


def _load_demo(if_empty: bool) -> None:
    from demo.loader import DemoRefused, load_demo

    token = actor.set_actor(None, "demo")
    try:
        summary = load_demo(db.session)
    except DemoRefused as exc:
        db.session.rollback()
        if if_empty:
            click.echo(f"demo data skipped: {exc}")
            return
        raise click.ClickException(str(exc)) from None
    finally:
        actor.reset_actor(token)
    click.echo("demo data loaded: " + ", ".join(f"{k}={v}" for k, v in summary.items()))


rollups_cli = AppGroup("rollups", help="Сводные таблицы статистики.")
uchet_cli.add_command(rollups_cli)


@rollups_cli.command("rebuild")
def rollups_rebuild_command() -> None:
    """Rebuild the statistics rollups from the vouchers (idempotent): after vouchers
    were changed by bulk SQL outside the application, or an office was moved in the
    org tree (the calendar periods' subtree counters follow the tree)."""
    from services.rollups import rebuild

    rebuild(db.session)
    db.session.commit()
    click.echo("statistics rollups rebuilt from the vouchers")


def register_cli(app: Flask) -> None:
    """Attach Uchet's command groups to the app."""
    from app.roles_cli import roles_cli

    uchet_cli.add_command(roles_cli)
    app.cli.add_command(uchet_cli)
    app.cli.add_command(demo_cli)
    from security.cli import rights_cli

    app.cli.add_command(rights_cli)
