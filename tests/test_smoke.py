"""The app starts, the login page is Russian and every demo user can sign in."""

import pytest

from demo.loader import USERS


def test_login_page_is_russian(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert "Войти" in response.get_data(as_text=True) or "Вход" in response.get_data(as_text=True)


@pytest.mark.parametrize("username", [u[0] for u in USERS])
def test_each_demo_user_logs_in_and_sees_home(login, username):
    c = login(username)
    page = c.get("/")
    assert page.status_code == 200
    # The workplace (issue 17): the user's name and the way to every section.
    assert "Все разделы" in page.get_data(as_text=True)


def test_wrong_password_is_refused(client):
    response = client.post("/login/", data={"username": "admin", "password": "nope"})
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
