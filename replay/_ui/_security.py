"""Who may use the UI and how its actions are protected.

- **Binding.** The UI binds to 127.0.0.1 by default. Binding anywhere else needs a
  token (``check_binding``): anyone who can reach the port could otherwise signal,
  update, cancel or terminate runs.
- **Token.** With a token, every request must carry it: ``Authorization: Bearer
  TOKEN``, or the ``replay_ui_token`` cookie that visiting any page with
  ``?token=TOKEN`` sets (HttpOnly, SameSite=Strict). Tokens are compared in
  constant time.
- **CSRF.** Every action is a POST whose form carries a token derived from the
  browser's session cookie with a per-process secret (HMAC-SHA256); a POST with a
  missing or wrong one, or with an ``Origin`` header naming another host, is
  refused before anything is written.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets

__all__ = ["LOOPBACK_HOSTS", "Guard", "UiBindingError", "check_binding"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SESSION_COOKIE = "replay_ui_session"
TOKEN_COOKIE = "replay_ui_token"


class UiBindingError(ValueError):
    """``replay ui`` was asked to listen beyond this machine without a token.

    A ``ValueError`` (a bad option, found before anything starts), with its code as
    data like every replay error.
    """

    code = "RPL-UI01"

    def __init__(self, host: str) -> None:
        super().__init__(
            f"[{self.code}] refusing to serve the UI on {host!r} without a token: anyone "
            "who can reach that address could signal, update, cancel or terminate runs. Pass "
            "--token SECRET (then open the UI with ?token=SECRET once), or bind to "
            "127.0.0.1 (the default) and reach it through an SSH tunnel.")
        self.host = host


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_binding(host: str, token: str | None) -> None:
    """Raise :class:`UiBindingError` when ``host`` is not a loopback address and no
    token protects the UI."""
    if not token and not _is_loopback(host):
        raise UiBindingError(host)


class Guard:
    """The token check and the CSRF tokens of one UI process."""

    def __init__(self, token: str | None = None, *, secret: bytes | None = None) -> None:
        self.token = token or None
        self._secret = secret or secrets.token_bytes(32)

    @staticmethod
    def new_session() -> str:
        return secrets.token_urlsafe(24)

    def csrf_token(self, session: str) -> str:
        """The form token for ``session`` (the browser's session cookie)."""
        return hmac.new(self._secret, f"csrf:{session}".encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: str | None, sent: str | None) -> bool:
        if not session or not sent:
            return False
        return hmac.compare_digest(self.csrf_token(session), sent)

    def token_ok(self, bearer: str | None, cookie: str | None) -> bool:
        """True when no token is configured or either credential matches it."""
        if self.token is None:
            return True
        return any(value is not None and hmac.compare_digest(value.encode(), self.token.encode())
                   for value in (bearer, cookie))
