"""The test database template: migrated, synced and loaded with the demo data once
per change of what shapes it, then copied for every test session.

The key is a hash of the migrations, the models, the rights catalogue and presets,
the demo loader with every project module it imports (and the session hooks), the
pinned requirements, the build code itself and today's date (the demo dates its
rows from today). Views are not among them: each session re-runs the (idempotent,
sub-second) sync on its copy, so new or changed views get their permissions.

A template is built under a temporary name and then renamed, under a lock, so
pytest processes running at once never see half a template; one builds it and
the others wait and reuse it.

SQLite: a file in the system temp dir (`UCHET_TEST_TEMPLATE_DIR` overrides), copied
per session. PostgreSQL: a database `uchet_tpl_<key>`, cloned per session with
`CREATE DATABASE ... TEMPLATE`. Templates unused for a day are removed.
"""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import fcntl
import hashlib
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import BASE_DIR

#: Bump when the way a template is built changes outside the hashed files.
FORMAT = 1
PACKAGES = ("app", "core", "demo", "models", "security", "services", "views")
#: The demo loader, and the session hooks create_app installs (they write rows too).
ROOTS = ("demo/loader.py", "services/admin/journal.py", "services/admin/orgtree.py",
         "services/contracts/patients.py", "services/vouchers/totals.py", "security/sync.py")
FIXED_INPUTS = ("migrations", "models", "security/catalogue.yaml", "security/presets.yaml",
                "config.py", "requirements.txt", "tests/template_db.py", "tests/conftest.py")
STALE_AFTER = 24 * 3600
PG_PREFIX = "uchet_tpl_"


def _module_file(dotted: str) -> Path | None:
    """Return the source file of a project module, or None when it is not one."""
    if dotted.split(".")[0] not in PACKAGES:
        return None
    base = BASE_DIR.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path) -> set[Path]:
    """Return the project files `path` imports, at any depth of its code."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            # `from pkg import mod` may name a submodule as well as an attribute.
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for dotted in names:
            parts = dotted.split(".")
            for depth in range(1, len(parts) + 1):  # packages' __init__ run too
                module = _module_file(".".join(parts[:depth]))
                if module is not None:
                    found.add(module)
    return found


def input_files() -> list[Path]:
    """Return every file whose content shapes the template, sorted."""
    files: set[Path] = set()
    for name in FIXED_INPUTS:
        path = BASE_DIR / name
        files |= set(path.rglob("*.py")) | set(path.rglob("*.ini")) if path.is_dir() else {path}
    todo = [BASE_DIR / root for root in ROOTS]
    missing = [str(path) for path in todo if not path.is_file()]
    if missing:
        # A moved demo loader must not silently drop out of the key.
        raise RuntimeError(f"tests/template_db.py ROOTS names missing files: {missing}")
    while todo:
        path = todo.pop()
        if path in files:
            continue
        files.add(path)
        todo.extend(_imports(path) - files)
    return sorted(p for p in files if "__pycache__" not in p.parts)


def template_key(today: dt.date | None = None) -> str:
    """Return the hash naming the template for the current inputs and date."""
    digest = hashlib.sha256(f"{FORMAT}:{(today or dt.date.today()).isoformat()}".encode())
    for path in input_files():
        digest.update(str(path.relative_to(BASE_DIR)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a+") as handle:
        os.utime(path)  # in use: not stale
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sqlite_template(build: Callable[[str], None], key: str | None = None) -> Path:
    """Return the SQLite template file for `key`, calling `build(url)` to make it
    when it does not exist yet."""
    key = key or template_key()
    folder = Path(os.environ.get("UCHET_TEST_TEMPLATE_DIR")
                  or Path(tempfile.gettempdir()) / "uchet-test-templates")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key}.sqlite3"
    if not path.exists():
        with _file_lock(folder / f"{key}.lock"):
            if not path.exists():
                partial = folder / f"{key}.{uuid.uuid4().hex[:8]}.building"
                try:
                    build(f"sqlite:///{partial}")
                    os.replace(partial, path)
                finally:
                    partial.unlink(missing_ok=True)
    os.utime(path)  # used now: not stale
    _prune_files(folder, keep=path)
    return path


def _prune_files(folder: Path, keep: Path) -> None:
    limit = time.time() - STALE_AFTER
    for path in folder.iterdir():
        if path != keep and path.suffix in (".sqlite3", ".building", ".lock"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < limit:
                    path.unlink()


def copy_sqlite(template: Path, target: Path) -> str:
    """Copy the template to `target`; return the copy's URL."""
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def pg_template(server_url: str, build: Callable[[str], None], key: str | None = None) -> str:
    """Return the name of the PostgreSQL template database for `key` on the server,
    calling `build(url)` to fill it when it does not exist yet."""
    key = key or template_key()
    name = f"{PG_PREFIX}{key}"
    server = make_url(server_url)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            # An advisory lock: one builder per key, the others wait for it.
            lock_id = int(hashlib.sha256(name.encode()).hexdigest()[:15], 16)
            conn.execute(text("SELECT pg_advisory_lock(:id)"), {"id": lock_id})
            try:
                if not _pg_exists(conn, name):
                    partial = f"{name}_b{uuid.uuid4().hex[:6]}"
                    conn.execute(text(f'CREATE DATABASE "{partial}"'))
                    _pg_stamp(conn, partial)
                    try:
                        build(server.set(database=partial).render_as_string(hide_password=False))
                        conn.execute(text(f'ALTER DATABASE "{partial}" RENAME TO "{name}"'))
                    finally:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{partial}" WITH (FORCE)'))
                _pg_stamp(conn, name)
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": lock_id})
            _prune_pg(conn, keep=name)
    finally:
        admin.dispose()
    return name


def _pg_exists(conn, name: str) -> bool:
    return bool(conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}))


def _pg_stamp(conn, name: str) -> None:
    # When the template was last used, read back by _prune_pg.
    conn.execute(text(f"COMMENT ON DATABASE \"{name}\" IS 'uchet-test {int(time.time())}'"))


def _prune_pg(conn, keep: str) -> None:
    rows = conn.execute(text(
        "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database "
        "WHERE datname LIKE :prefix"), {"prefix": PG_PREFIX + "%"})
    limit = time.time() - STALE_AFTER
    for name, comment in rows.all():
        stamp = (comment or "").removeprefix("uchet-test ")
        if name != keep and stamp.isdigit() and int(stamp) < limit:
            # Without FORCE: a template someone is cloning right now stays.
            with contextlib.suppress(Exception):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))


def clone_pg(server_url: str, template: str, name: str) -> str:
    """Create database `name` as a copy of `template`; return its URL."""
    server = make_url(server_url)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        for attempt in range(20):
            try:
                with admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
                break
            except Exception:
                # Another session cloning or just built the template: try again shortly.
                if attempt == 19:
                    raise
                time.sleep(0.5)
    finally:
        admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)
