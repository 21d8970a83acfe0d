"""Bearer-token authentication for FindService: a token from the tokens file or a JWT from a
trusted issuer, either one; health and reflection stay open for probes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc

from findsvc.config import ConfigError, Settings
from findsvc.contract import FIND_SERVICE_NAME
from findsvc.entrypoints.callers import UNAUTHENTICATED, CallerLabels
from findsvc.entrypoints.middleware.jwks_url import JwksUrl
from findsvc.entrypoints.middleware.jwt_auth import (
    AnyOfKeys,
    BadCredential,
    JwksError,
    JwksFile,
    JwksKeys,
    JwtVerifier,
)
from findsvc.entrypoints.middleware.token_file import RELOAD_CHECK_S, TokenFile, TokenFileError

__all__ = ["RELOAD_CHECK_S", "TokenAuth", "bearer_token", "token_auth"]

log = logging.getLogger(__name__)

PROTECTED_PREFIX = f"/{FIND_SERVICE_NAME}/"


def bearer_token(metadata: Any) -> bytes | None:
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip().encode()
    return None


def _refusal(message: str) -> grpc.RpcMethodHandler[Any, Any]:
    def refuse(_request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    return grpc.unary_unary_rpc_method_handler(refuse)


# Every message a caller can get is one of these, or a BadCredential's: none holds the token.
_NO_TOKEN = _refusal("a valid bearer token is required")
_UNKNOWN_TOKEN = _refusal("the bearer token is not a known token")


@dataclass(frozen=True)
class Caller:
    name: str  # the tokens file's name, or the JWT's sub
    label: str  # the name as the metrics and the access log show it: bounded


def token_auth(settings: Settings) -> TokenAuth | None:
    """The interceptor when a tokens file or JWT keys are set; None otherwise."""
    tokens = _tokens_file(settings)
    jwts = _jwt_verifier(settings)
    if tokens is None and jwts is None:
        return None
    if settings.tls_cert is None:
        log.warning("bearer tokens over plaintext: use TLS, or a mesh that encrypts for you")
    return TokenAuth(tokens, jwts, CallerLabels(settings.auth_jwt_callers or ()))


def _tokens_file(settings: Settings) -> TokenFile | None:
    if settings.auth_tokens_file is None:
        return None
    try:
        return TokenFile(settings.auth_tokens_file)
    except TokenFileError as error:
        raise ConfigError(f"FINDSVC_AUTH_TOKENS_FILE: {error}") from None


def _jwt_verifier(settings: Settings) -> JwtVerifier | None:
    sources: list[JwksKeys] = []
    if settings.auth_jwks_file is not None:
        try:
            sources.append(JwksFile(settings.auth_jwks_file))
        except JwksError as error:
            raise ConfigError(f"FINDSVC_AUTH_JWKS_FILE: {error}") from None
    if settings.auth_jwks_url is not None:
        url = settings.auth_jwks_url
        sources.append(JwksUrl(url, settings.auth_jwks_ca, settings.auth_jwks_token_file))
    if not sources:
        return None
    assert settings.auth_jwt_issuer and settings.auth_jwt_audience  # checked by load()
    keys = sources[0] if len(sources) == 1 else AnyOfKeys(*sources)
    return JwtVerifier(keys, settings.auth_jwt_issuer, settings.auth_jwt_audience)


class TokenAuth(grpc.ServerInterceptor):  # type: ignore[type-arg]
    """A call passes with a token of the tokens file or with a valid JWT, whichever is on."""

    def __init__(
        self, tokens: TokenFile | None, jwts: JwtVerifier | None, labels: CallerLabels
    ) -> None:
        self._tokens = tokens
        self._jwts = jwts
        self._labels = labels

    def caller_of(self, metadata: Any) -> Caller | grpc.RpcMethodHandler[Any, Any]:
        """The caller, or the handler that refuses the call and says why."""
        token = bearer_token(metadata)
        if token is None:
            return _NO_TOKEN
        if self._tokens is not None:
            name = self._tokens.caller_of(token)
            if name is not None:
                return Caller(name, name)  # the operator wrote the tokens file: names are bounded
        # A token with a JWT's two dots is judged as one; any other is just not known.
        if self._jwts is None or token.count(b".") != 2:
            return _UNKNOWN_TOKEN
        try:
            subject = self._jwts.caller_of(token)
        except BadCredential as error:
            return _refusal(str(error))
        return Caller(subject, self._labels.of_jwt(subject))

    def caller_label(self, method: str, metadata: Any) -> str:
        """Who made the call, for the metrics and the access log."""
        if not method.startswith(PROTECTED_PREFIX):
            return UNAUTHENTICATED
        caller = self.caller_of(metadata)
        return caller.label if isinstance(caller, Caller) else UNAUTHENTICATED

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = continuation(handler_call_details)
        # An unknown method (None) is refused as such, by the caller of this interceptor.
        if handler is None or not handler_call_details.method.startswith(PROTECTED_PREFIX):
            return handler
        caller = self.caller_of(handler_call_details.invocation_metadata)
        return handler if isinstance(caller, Caller) else caller
