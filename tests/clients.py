"""The test client the API tests sign in with: a browser's cookies and CSRF checks."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

PASSWORD = "correct-Horse-battery-9"  # every ``make_user`` user's


class BrowserClient(APIClient):
    """An API client that keeps cookies and faces CSRF checks the way a browser client does."""

    def __init__(self, **defaults: Any) -> None:
        super().__init__(enforce_csrf_checks=True, **defaults)

    def csrf(self) -> str:
        token: str = self.get("/api/auth/csrf/").json()["csrfToken"]
        return token

    def sign_in(self, username: str, password: str = PASSWORD) -> Any:
        response = self.post(
            "/api/auth/login/",
            {"username": username, "password": password},
            format="json",
            HTTP_X_CSRFTOKEN=self.csrf(),
        )
        assert response.status_code == 200, response.content
        return response

    def unsafe(self, method: str, path: str, data: Any = None) -> Any:
        """Send an unsafe request with the CSRF header (fetching a token if needed)."""
        token = self.cookies["csrftoken"].value if "csrftoken" in self.cookies else self.csrf()
        return getattr(self, method)(path, data, format="json", HTTP_X_CSRFTOKEN=token)
