"""Bearer-token authentication for FindService; health and reflection stay open for probes."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc

from findsvc.config import ConfigError, Settings
from findsvc.contract import FIND_SERVICE_NAME
from findsvc.entrypoints.file_watch import FileWatch

log = logging.getLogger(__name__)

PROTECTED_PREFIX = f"/{FIND_SERVICE_NAME}/"

# How often, at most, the tokens file is checked for a change (token rotation, no restart).
RELOAD_CHECK_S = 1.0


def read_tokens(path: Path) -> tuple[bytes, ...]:
    """One token a line; blank lines and lines starting with # (indented or not) are skipped."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return tuple(line.encode() for line in lines if line and not line.startswith("#"))


class TokenFile:
    """The accepted tokens, re-read when the file changes (a rotated Kubernetes Secret)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._watch = FileWatch(path, every_s=RELOAD_CHECK_S)
        self._tokens = read_tokens(path)
        if not self._tokens:
            raise ConfigError("FINDSVC_AUTH_TOKENS_FILE: the file holds no tokens")
        self._unreadable = False

    def accepts(self, candidate: bytes) -> bool:
        self._reload_if_changed()
        accepted = False
        for token in self._tokens:  # compare with every token, in constant time each
            accepted |= hmac.compare_digest(token, candidate)
        return accepted

    def _reload_if_changed(self) -> None:
        try:
            if not self._watch.changed():  # a bad file is reported once, not at every check
                return
            tokens = read_tokens(self._path)
        except (OSError, UnicodeDecodeError):
            if not self._unreadable:  # once until it reads again, not at every check
                log.warning("cannot read the tokens file; keeping the tokens loaded before")
            self._unreadable = True
            return
        self._unreadable = False
        if not tokens:
            # An emptied or truncated Secret must not lock every caller out.
            log.warning("the tokens file holds no tokens; keeping the tokens loaded before")
            return
        self._tokens = tokens
        log.info("tokens reloaded", extra={"tokens": len(self._tokens)})


def bearer_token(metadata: Any) -> bytes | None:
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip().encode()
    return None


def _refuse(_request: Any, context: grpc.ServicerContext) -> Any:
    context.abort(grpc.StatusCode.UNAUTHENTICATED, "a valid bearer token is required")


_REFUSED = grpc.unary_unary_rpc_method_handler(_refuse)


def token_auth(settings: Settings) -> list[grpc.ServerInterceptor[Any, Any]]:
    """The interceptor when FINDSVC_AUTH_TOKENS_FILE is set; none otherwise."""
    if settings.auth_tokens_file is None:
        return []
    auth = TokenAuth(TokenFile(settings.auth_tokens_file))
    if settings.tls_cert is None:
        log.warning("bearer tokens over plaintext: use TLS, or a mesh that encrypts for you")
    return [auth]


class TokenAuth(grpc.ServerInterceptor):  # type: ignore[type-arg]
    def __init__(self, tokens: TokenFile) -> None:
        self._tokens = tokens

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = continuation(handler_call_details)
        # An unknown method (None) is refused as such, by the caller of this interceptor.
        if handler is None or not handler_call_details.method.startswith(PROTECTED_PREFIX):
            return handler
        token = bearer_token(handler_call_details.invocation_metadata)
        if token is not None and self._tokens.accepts(token):
            return handler
        return _REFUSED
