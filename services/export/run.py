"""Export to accounting as a command: check the right, the branch and the period, then
stream the rows into the file (XML or XLSX), keep the file and write its log line.

Rights («Экспорт в бухгалтерию»): each kind of export answers to its own right —
«Выручка по кассе» (`export.cash_revenue`), «Счета контрагентам»
(`export.counterparty_invoices`); "создание" starts an export, "просмотр" reads the log
and downloads past files. The branch must lie in the user's scope (else NotFound, as a
foreign row). The closed period (`services.admin.params.closed_through`) decides
whether the file is final: a period reaching past the closed date is exported as
preliminary, since its documents may still change. An export of a period and branch
exported before is a repeat («повторная выгрузка»), linked to the previous one.

The rows (their count, the documents' sums, the lines) and the closed date that makes
the file final are read on `reads`, the read replica's session when UCHET_REPLICA_URL is
set (app.replica); the checks, the previous export and the log with its file are read
and written on the primary's session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import insert, select

from core.errors import Conflict, NotFound, ValidationError
from models.exports import EXPORT_FORMATS, EXPORT_KINDS, KIND_RIGHTS, ExportChunk, ExportLog
from models.org import Unit
from security.scope import scoped
from services.admin.params import closed_through, network_of
from services.dates import parse_date
from services.export import rows as source
from services.export import writers

CHUNK = 1024 * 1024        # bytes of a stored piece of a file
PROGRESS_EVERY = 1000      # rows between two progress reports
MAX_DAYS = 366             # the longest period one export covers
XLSX_MAX_LINES = 1_048_576 - 2  # Excel's rows on a sheet, less the caption and header


@dataclass(frozen=True)
class Request:
    """What to export: kind ("cash" / "invoices"), format ("xml" / "xlsx"), branch, days."""

    kind: str
    fmt: str
    branch_id: int
    start: dt.date
    end: dt.date

    def as_json(self) -> dict:
        return {"kind": self.kind, "fmt": self.fmt, "branch_id": self.branch_id,
                "start": self.start.isoformat(), "end": self.end.isoformat()}

    @classmethod
    def from_json(cls, data: dict) -> Request:
        return cls(data["kind"], data["fmt"], int(data["branch_id"]),
                   dt.date.fromisoformat(data["start"]), dt.date.fromisoformat(data["end"]))


def typed_request(kind: str, *, start: str, end: str, fmt: str, branch_id: str) -> Request:
    """Return the request typed on the form (dates ДД.ММ.ГГГГ, the branch's id).

    Raises ValidationError for a date that is not one or a missing branch."""
    first, last = parse_date(start), parse_date(end)
    if first is None or last is None:
        raise ValidationError(_("Введите период датами ДД.ММ.ГГГГ"), field="start")
    try:
        branch = int(branch_id)
    except ValueError:
        raise ValidationError(_("Выберите филиал"), field="branch_id") from None
    return Request(kind, fmt, branch, first, last)


def branches(session, rights) -> list[Unit]:
    """Return the branches the user may export (those in his scope), by name."""
    stmt = select(Unit).where(Unit.kind == "branch").order_by(Unit.name)
    return list(session.scalars(scoped(stmt, rights)))


def check(session, rights, req: Request) -> Unit:
    """Return the branch of a valid request the user may run.

    Raises Forbidden (no «создание» of the kind's right), NotFound (a branch outside his
    scope) or ValidationError (a wrong kind, format or period)."""
    if req.kind not in EXPORT_KINDS or req.fmt not in EXPORT_FORMATS:
        raise ValidationError(_("Неизвестный вид или формат выгрузки"))
    rights.require(KIND_RIGHTS[req.kind], "create")
    branch = session.scalar(scoped(select(Unit).where(Unit.id == req.branch_id,
                                                      Unit.kind == "branch"), rights))
    if branch is None:
        raise NotFound(_("Филиал не найден"))
    if req.end < req.start:
        raise ValidationError(_("Конец периода раньше его начала"), field="end")
    if (req.end - req.start).days >= MAX_DAYS:
        raise ValidationError(_("Период выгрузки — не больше года"), field="end")
    return branch


def previous(session, req: Request) -> ExportLog | None:
    """Return the latest export of the same kind, branch and period (None: the first)."""
    return session.scalar(
        select(ExportLog).where(ExportLog.kind == req.kind,
                                ExportLog.branch_id == req.branch_id,
                                ExportLog.period_from == req.start,
                                ExportLog.period_to == req.end)
        .order_by(ExportLog.id.desc()).limit(1))


def is_final(session, req: Request) -> bool:
    """Return True when the whole period lies in the closed period (its documents no
    longer change)."""
    closed = closed_through(session, req.branch_id)
    return closed is not None and req.end <= closed


class _Tally:
    """Counts rows, documents and the amount, and hashes the rows, as they pass."""

    def __init__(self, key: str, total: int, progress: Callable[[int, int], None]) -> None:
        self.key, self.total, self.progress = key, total, progress
        self.lines = self.documents = 0
        self.amount = Decimal(0)
        self.digest = hashlib.sha256()
        self._last = None

    def watch(self, rows: Iterable) -> Iterator:
        for row in rows:
            self.lines += 1
            self.amount += row.amount
            # The checksum is of the data, not of the file (whose creation time differs):
            # two exports of unchanged documents have the same checksum.
            self.digest.update(("|".join(map(str, row)) + "\n").encode())
            if getattr(row, self.key) != self._last:
                self.documents += 1
                self._last = getattr(row, self.key)
            if self.lines % PROGRESS_EVERY == 0:
                self.progress(self.lines, self.total)
            yield row


def _company(session, branch: Unit) -> dict:
    network = session.get(Unit, network_of(session, branch.id))
    inn = branch.inn or (network.inn if network is not None else None) or ""
    name = network.name if network is not None and not branch.inn else branch.name
    return {"id": network.id if network is not None and not branch.inn else branch.id,
            "name": name, "inn": inn}


def _write(session, reads, rights, req: Request, branch: Unit, out, tally: _Tally,
           created: dt.datetime) -> None:
    if req.kind == "cash":
        rows = tally.watch(source.cash_rows(reads, rights, req.branch_id, req.start,
                                            req.end))
    else:
        rows = tally.watch(source.invoice_rows(reads, rights, req.branch_id, req.start,
                                               req.end))
    if req.fmt == "xml":
        xml = writers.XmlOut(out, _company(session, branch))
        write = writers.write_cash_xml if req.kind == "cash" else writers.write_invoices_xml
        totals = source.totals(reads, rights, req.kind, req.branch_id, req.start, req.end)
        write(xml, rows, created, totals)
        if tally.amount != sum(totals.values(), Decimal(0)) or tally.documents != len(totals):
            # Two reads (the sums, then the lines): a document that changed between them
            # would carry a sum its lines do not make. Nothing is kept; run it again.
            raise Conflict(_("Документы периода изменились во время выгрузки: "
                             "выгрузите его ещё раз"))
        return
    caption = [str(EXPORT_KINDS[req.kind]), branch.name,
               f"{req.start:%d.%m.%Y} – {req.end:%d.%m.%Y}"]
    if req.kind == "cash":
        writers.write_xlsx(out, _("Выручка"), caption, writers.cash_header(),
                           writers.cash_values(rows))
    else:
        writers.write_xlsx(out, _("Счета"), caption, writers.invoice_header(),
                           writers.invoice_values(rows))


def filename(req: Request, branch: Unit) -> str:
    """Return the file's name: kind, branch code or id, period, extension."""
    code = getattr(branch, "code", None) or str(branch.id)
    return f"{req.kind}_{code}_{req.start:%Y%m%d}-{req.end:%Y%m%d}.{req.fmt}"


def export(session, rights, req: Request, *, progress=lambda done, total: None,
           job_id: str | None = None, now: dt.datetime | None = None,
           reads=None) -> ExportLog:
    """Run the export inside the caller's unit of work; return its log line (flushed).
    The rows and the closed date are read on `reads` (a read replica's session;
    `session` by default), the log line and the file are written on `session`.

    Raises what `check` raises; whatever `progress` raises (a cancel) leaves nothing
    written once the caller rolls back."""
    reads = session if reads is None else reads
    branch = check(session, rights, req)
    created = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    before = previous(session, req)
    total = source.count(reads, rights, req.kind, req.branch_id, req.start, req.end)
    if req.fmt == "xlsx" and total > XLSX_MAX_LINES:
        raise ValidationError(_("В периоде %(n)s строк: в лист Excel их не уместить, "
                                "выгрузите XML или период короче", n=total))
    progress(0, total)
    tally = _Tally("shift_id" if req.kind == "cash" else "invoice_id", total, progress)
    with tempfile.TemporaryFile() as out:
        _write(session, reads, rights, req, branch, out, tally, created)
        size = out.tell()
        log = ExportLog(at=created, user_id=rights.user_id, username=rights.username or "",
                        kind=req.kind,
                        fmt=req.fmt, branch_id=req.branch_id, period_from=req.start,
                        period_to=req.end,
                        # The replica's closed date: once it sees the period closed, it
                        # also holds every change committed before the closing.
                        final=is_final(reads, req),
                        repeat_of_id=before.id if before is not None else None,
                        documents=tally.documents, lines=tally.lines, amount=tally.amount,
                        checksum=tally.digest.hexdigest(), size=size,
                        filename=filename(req, branch), job_id=job_id)
        session.add(log)
        session.flush()
        out.seek(0)
        seq = 0
        while piece := out.read(CHUNK):
            # Core inserts: the pieces never stay in the session's identity map.
            session.execute(insert(ExportChunk).values(log_id=log.id, seq=seq, data=piece))
            seq += 1
    progress(tally.lines, total)
    return log


def chunks(session, log_id: int) -> Iterator[bytes]:
    """Yield the stored file of an export piece by piece (one piece in memory at a time)."""
    seq = 0
    while (piece := session.scalar(select(ExportChunk.data).where(
            ExportChunk.log_id == log_id, ExportChunk.seq == seq))) is not None:
        yield piece
        seq += 1
