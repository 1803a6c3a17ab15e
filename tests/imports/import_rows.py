"""Helpers of the import tests: files, uploads through the screens, job pages."""

from __future__ import annotations

import io
import re

from openpyxl import Workbook


def csv_bytes(header: list[str], *rows: list, encoding="utf-8", delimiter=";") -> bytes:
    """Return a CSV file: the header, then the rows."""
    lines = [delimiter.join(header)] + [delimiter.join("" if v is None else str(v) for v in r)
                                        for r in rows]
    return "\n".join(lines).encode(encoding)


def xlsx_bytes(rows) -> bytes:
    """Return an XLSX whose first sheet holds `rows`."""
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(client, code: str, data: bytes, filename="file.csv", *, confirm=True, **form):
    """Upload through the screen (preview job), optionally confirm; return
    (preview page, final page) as text. Jobs run inline under testing."""
    response = client.post(f"/imports/{code}/preview",
                           data={"file": (io.BytesIO(data), filename), **form},
                           content_type="multipart/form-data")
    if response.status_code != 302:
        return response, None
    preview = client.get(response.headers["Location"])
    if not confirm:
        return preview, None
    job = re.search(r"/job/([A-Za-z0-9_-]+)", response.headers["Location"]).group(1)
    done = client.post(f"/imports/{code}/job/{job}/confirm")
    if done.status_code != 302:
        return preview, done
    return preview, client.get(done.headers["Location"])


def text(response) -> str:
    """Return a page's text with tags removed and spaces collapsed."""
    import html

    body = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return " ".join(html.unescape(body).split())
