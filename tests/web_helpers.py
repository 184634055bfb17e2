"""A browser without a browser: a TestClient that logs in through the login page, keeps its cookies and
posts forms with the hidden fields the page gave it."""

import re

from fastapi.testclient import TestClient

from tests.conftest import PASSWORD


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden field {name}"
    return found.group(1).replace("&#34;", '"')


def browser(app, username: str | None = None, https: bool = False) -> TestClient:
    """A client of its own (its own cookies), logged in as `username` when given."""
    client = TestClient(app, base_url="https://testserver" if https else "http://testserver")
    if username:
        response = log_in(client, username)
        assert response.status_code == 303, response.text
    return client


def log_in(client: TestClient, username: str, password: str = PASSWORD, target: str = "/app/vergaderingen"):
    form = client.get("/app/inloggen")
    return client.post("/app/inloggen", follow_redirects=False, data={
        "gebruikersnaam": username, "wachtwoord": password, "nonce": hidden(form.text, "nonce"), "volgende": target})


def submit(client: TestClient, page_path: str, action: str, **fields):
    """Posts the form with this action from the page at `page_path`, with its CSRF token and ETag."""
    page = client.get(page_path).text
    form = re.search(rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>', page, re.S)
    assert form, f"no form posting to {action} on {page_path}"
    data = {name: value.replace("&#34;", '"') for name, value in
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(1))}
    return client.post(action, data=data | fields, follow_redirects=False)
