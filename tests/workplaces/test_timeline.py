"""A client's courier call shows its way through its states as a timeline: the
states reached with their time, the current one, the ones still ahead; a cancelled
call ends with its cancellation."""

from __future__ import annotations

import re

from sqlalchemy import select

from models.cabinet import CourierCall
from tests.cabinet.test_cabinet_requests import call_form
from tests.contract_rows import page


def steps(html: str, call_id: int) -> list[tuple[str, str]]:
    """Return (state, class) of the timeline on the row of call `call_id`."""
    row = re.search(rf"<tr>\s*<td>{call_id}</td>(.*?)</tr>", html, re.S).group(1)
    return [(state, css.split()[0]) for css, state in re.findall(
        r'<li class="([^"]+)" data-state="([a-z]+)">', row)]


def test_a_call_shows_its_states_as_a_timeline(session, login):
    client = login("client_user")
    assert client.post("/cabinet/courier/", data=call_form(session)).status_code == 302
    call = session.scalars(select(CourierCall).order_by(CourierCall.id.desc())).first()
    assert steps(page(client.get("/cabinet/courier/")), call.id) == [
        ("new", "current"), ("accepted", "todo"), ("done", "todo")]
    manager = login("manager")
    assert manager.post(f"/cabinet/courier/{call.id}/state",
                        data={"state": "accepted"}).status_code == 302
    shown = page(client.get("/cabinet/courier/"))
    assert steps(shown, call.id) == [("new", "done"), ("accepted", "current"), ("done", "todo")]
    row = re.search(rf"<tr>\s*<td>{call.id}</td>(.*?)</tr>", shown, re.S).group(1)
    assert len(re.findall(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", row)) >= 2  # when each was reached


def test_a_cancelled_call_ends_with_its_cancellation(session, login):
    client = login("client_user")
    assert client.post("/cabinet/courier/", data=call_form(session)).status_code == 302
    call = session.scalars(select(CourierCall).order_by(CourierCall.id.desc())).first()
    assert client.post(f"/cabinet/courier/{call.id}/state",
                       data={"state": "cancelled"}).status_code == 302
    assert steps(page(client.get("/cabinet/courier/")), call.id) == [
        ("new", "done"), ("cancelled", "current")]
