"""A small OAuth2 provider on loopback: a token endpoint and an introspection endpoint.

Real HTTP, so the bot's token refresh and Dovecot's oauth2 passdb talk to
it as they would to Google or Microsoft: ``/token`` trades the refresh token
for an access token, ``/introspect`` tells Dovecot whose token it is.
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class OAuth2Provider:
    """Start with :meth:`start`; ``token_url`` and ``introspection_url`` point at it."""

    def __init__(
        self, username: str, client_id: str = "bot-client", client_secret: str = "bot-secret"
    ) -> None:
        self.username, self.client_id, self.client_secret = username, client_id, client_secret
        self.refresh_token = "refresh-" + secrets.token_hex(8)
        self.issued: list[str] = []
        self.token_requests = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                status, body = provider._answer(self.path, form)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def token_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    @property
    def introspection_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/introspect"

    def _answer(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        if path == "/token":
            self.token_requests += 1
            ok = (
                form.get("grant_type") == "refresh_token"
                and form.get("refresh_token") == self.refresh_token
                and form.get("client_id") == self.client_id
                and form.get("client_secret") == self.client_secret
            )
            if not ok:
                return 400, {"error": "invalid_grant", "error_description": "refresh token not recognised"}
            token = "access-" + secrets.token_hex(12)
            self.issued.append(token)
            return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600}
        if path == "/introspect":
            if form.get("token") in self.issued:
                return 200, {"active": "true", "username": self.username}
            return 200, {"active": "false"}
        return 404, {"error": "not_found"}

    def start(self) -> OAuth2Provider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
