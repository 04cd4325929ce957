"""One user's browser, as far as JupyterHub can tell: the login form, the spawn page, cookies and XSRF tokens.

Servers and services are reached through the hub's proxy, so every request takes the OAuth redirects a
browser takes; API calls send the XSRF header JupyterLab's own pages send.
"""

from __future__ import annotations

import re
import time

import requests

FORM_XSRF = re.compile(r'name="_xsrf"\s+value="([^"]+)"')


class HubSession:
    def __init__(self, base_url: str, name: str):
        self.base, self.name = base_url.rstrip("/"), name
        self.http = requests.Session()

    def url(self, path: str) -> str:
        return self.base + path

    def login(self, password: str) -> requests.Response:
        """Fill in and send the hub's login form; the answer, redirects not followed."""
        form = self.http.get(self.url("/hub/login"), timeout=30)
        form.raise_for_status()
        found = FORM_XSRF.search(form.text)
        assert found, "no _xsrf field in the hub's login form"
        return self.http.post(self.url("/hub/login"), timeout=30, allow_redirects=False,
                              data={"username": self.name, "password": password, "_xsrf": found.group(1)})

    def logged_in(self) -> bool:
        return any(cookie.name == "jupyterhub-hub-login" for cookie in self.http.cookies)

    def start_server(self, timeout: float = 120) -> float:
        """Ask for the server as the hub's home page does; wait until its API answers; the seconds it took."""
        start, lab = time.monotonic(), self.url(f"/user/{self.name}/lab")
        self.page(f"/hub/spawn/{self.name}")
        while True:
            # until then the hub answers with its spawn-pending page; then the server's OAuth ends in JupyterLab
            opened = self.page(f"/user/{self.name}/lab")
            if opened.status_code == 200 and opened.url.startswith(lab):
                return time.monotonic() - start
            assert time.monotonic() - start < timeout, \
                f"{self.name}'s server did not start in {timeout:.0f} s (last answer {opened.status_code} {opened.url})"
            time.sleep(1)

    def page(self, path: str) -> requests.Response:
        """A page the user opens: a navigation, as the browser marks it."""
        return self.http.get(self.url(path), headers={"Sec-Fetch-Mode": "navigate"}, timeout=60)

    def _xsrf_header(self, path: str) -> dict:
        """The XSRF token of the cookie whose path holds ``path`` most closely, as JupyterLab sends it."""
        cookies = [c for c in self.http.cookies if c.name == "_xsrf" and path.startswith(c.path or "/")]
        if not cookies:
            return {}
        return {"X-XSRFToken": max(cookies, key=lambda c: len(c.path or "")).value}

    def get(self, path: str) -> requests.Response:
        """An API call from a page (fetch), with the XSRF header once a page of that server set its cookie."""
        return self.http.get(self.url(path), timeout=120,
                             headers={"Sec-Fetch-Mode": "cors", "Sec-Fetch-Site": "same-origin",
                                      **self._xsrf_header(path)})

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.http.post(self.url(path), timeout=300,
                              headers={"Sec-Fetch-Mode": "cors", "Sec-Fetch-Site": "same-origin",
                                       **self._xsrf_header(path)}, **kwargs)
