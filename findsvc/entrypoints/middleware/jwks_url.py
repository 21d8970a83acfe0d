"""The issuer's keys fetched from its JWKS URL, refreshed in the background: never on a
call's path, so a slow or dead issuer costs no call any time.

In Kubernetes the URL is the API server's `https://kubernetes.default.svc/openid/v1/jwks`:
findsvc shows its own service-account token (`token_file`) and trusts the cluster's CA
(`ca_file`); the ClusterRole `system:service-account-issuer-discovery` lets it read there.
"""

from __future__ import annotations

import logging
import ssl
import threading
import urllib.request
from pathlib import Path

import jwt

from findsvc.entrypoints.middleware.jwt_auth import JwksError, parse_jwks

log = logging.getLogger(__name__)

REFRESH_S = 300.0  # Kubernetes publishes a new signing key long before it signs with it
RETRY_S = (1.0, 2.0, 5.0, 10.0, 30.0)  # after a failed fetch, then every 30 s
FETCH_TIMEOUT_S = 5.0
MAX_DOCUMENT_BYTES = 1024 * 1024


class JwksUrl:
    """Starts fetching at once; until the first fetch succeeds, every JWT is refused as signed
    with an unknown key, and the log says why the keys are missing (once per failure run)."""

    def __init__(self, url: str, ca_file: Path | None = None, token_file: Path | None = None):
        self._url = url
        self._ca_file = ca_file
        self._token_file = token_file
        self._keys: dict[str, jwt.PyJWK] = {}
        self.generation = 0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._refresh, name="jwks-refresh", daemon=True)
        self._thread.start()

    def key(self, kid: str) -> jwt.PyJWK | None:
        return self._keys.get(kid)

    def reload_if_changed(self) -> None:
        """Nothing to do on a call: the refresh thread replaces the keys."""

    def close(self) -> None:
        self._stopped.set()

    def _refresh(self) -> None:
        failures = 0
        while not self._stopped.is_set():
            try:
                keys = parse_jwks(self._fetch())
            except (OSError, JwksError, ValueError) as error:
                if failures == 0:
                    log.warning(f"cannot fetch the JWT keys (FINDSVC_AUTH_JWKS_URL): {_why(error)}")
                wait_s = RETRY_S[min(failures, len(RETRY_S) - 1)]
                failures += 1
            else:
                if failures:
                    log.info("fetched the JWT keys again", extra={"failed_fetches": failures})
                self._keys = keys
                self.generation += 1  # tokens verified with the old keys are checked again
                failures, wait_s = 0, REFRESH_S
            self._stopped.wait(wait_s)

    def _fetch(self) -> bytes:
        # https:// only (the setting's parser), and no redirect, which could lead to http://.
        request = urllib.request.Request(self._url, headers={"Accept": "application/json"})  # noqa: S310
        if self._token_file is not None:
            token = self._token_file.read_text(encoding="utf-8").strip()  # the kubelet rotates it
            request.add_header("Authorization", f"Bearer {token}")
        context = ssl.create_default_context(cafile=self._ca_file)
        opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context), _NoRedirect()
        )
        with opener.open(request, timeout=FETCH_TIMEOUT_S) as reply:
            document: bytes = reply.read(MAX_DOCUMENT_BYTES + 1)
        if len(document) > MAX_DOCUMENT_BYTES:
            raise JwksError("the document is over 1 MiB")
        return document


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # the 3xx is then an HTTPError: the keys are where the URL says, or nowhere


def _why(error: Exception) -> str:
    """One line, with no URL query and no token: the error's kind and its short reason."""
    if isinstance(error, JwksError):
        return str(error)
    reason = getattr(error, "reason", None) or getattr(error, "code", None)
    return f"{type(error).__name__}" + (f" ({reason})" if isinstance(reason, str | int) else "")
