"""JWT auth: a Kubernetes projected service-account token (or any issuer's) names its caller.

The keys come from a JWKS file (the cluster's `/openid/v1/jwks`, saved in a ConfigMap),
re-read when it changes, or from the issuer's URL (`jwks_url.py`). PyJWT checks the
signature and the claims; this module only picks the key and says, in words a caller can act
on, what was wrong.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Protocol

import jwt

from findsvc.entrypoints.file_watch import FileWatch

log = logging.getLogger(__name__)

# Asymmetric only: a verifier that also took HS256 would take a token signed with the public
# key as the secret. The key's own type decides which of the two applies to it.
ALGORITHM_OF_KEY_TYPE = {"RSA": "RS256", "EC": "ES256"}
CLOCK_SKEW_S = 30
# Longer tokens are not ours to parse: a projected token is about 1 KB.
MAX_TOKEN_BYTES = 16 * 1024
RELOAD_CHECK_S = 1.0
# Verified tokens remembered, so a caller's next calls (a projected token lives an hour) cost
# a lookup, not a signature check; and the metrics can name the caller without a second one.
VERIFIED_TOKENS = 1024


class BadCredential(Exception):
    """Why a token was refused, fit to send back to its caller (never the token itself)."""


class JwksError(ValueError):
    """The JWKS file cannot be used."""


class JwksKeys(Protocol):
    """The issuer's keys, from a file or a URL."""

    @property
    def generation(self) -> int:
        """One more at each reload: what was verified with older keys is checked again."""

    def key(self, kid: str) -> jwt.PyJWK | None: ...

    def reload_if_changed(self) -> None: ...


def read_jwks(path: Path) -> dict[str, jwt.PyJWK]:
    """The usable keys by `kid`. Raises JwksError, OSError."""
    return parse_jwks(path.read_bytes())


def parse_jwks(document: bytes) -> dict[str, jwt.PyJWK]:
    """The usable keys by `kid`. Raises JwksError."""
    try:
        keys = jwt.PyJWKSet.from_dict(json.loads(document.decode("utf-8"))).keys
    except (UnicodeDecodeError, json.JSONDecodeError, jwt.PyJWKSetError, TypeError) as error:
        raise JwksError(f"not a JWKS document ({type(error).__name__})") from None
    usable = {
        key.key_id: key
        for key in keys
        if key.key_id and key.key_type in ALGORITHM_OF_KEY_TYPE and key.public_key_use != "enc"
    }
    if not usable:
        raise JwksError("no RSA or EC signing key with a kid")
    return usable


class JwksFile:
    """The keys of FINDSVC_AUTH_JWKS_FILE, re-read when the file changes (the kubelet swaps
    a ConfigMap's symlink). A file that cannot be read or used keeps the keys loaded before."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._watch = FileWatch(path, every_s=RELOAD_CHECK_S)
        self._keys = read_jwks(path)
        self._unusable = False
        self.generation = 0

    def key(self, kid: str) -> jwt.PyJWK | None:
        return self._keys.get(kid)

    def reload_if_changed(self) -> None:
        try:
            if not self._watch.changed():
                return
            keys = read_jwks(self._path)
        except (OSError, JwksError) as error:
            if not self._unusable:  # once until it reads again, not at every check
                reason = error if isinstance(error, JwksError) else "cannot read it"
                log.warning(f"JWKS file: {reason}; keeping the keys loaded before")
            self._unusable = True
            return
        self._unusable = False
        self._keys = keys
        self.generation += 1
        log.info("JWKS reloaded", extra={"keys": len(keys)})


class AnyOfKeys:
    """Keys from a file and a URL at once (FINDSVC_AUTH_JWKS_FILE and _URL both set)."""

    def __init__(self, *sources: JwksKeys) -> None:
        self._sources = sources

    @property
    def generation(self) -> int:
        return sum(source.generation for source in self._sources)

    def key(self, kid: str) -> jwt.PyJWK | None:
        return next((k for s in self._sources if (k := s.key(kid)) is not None), None)

    def reload_if_changed(self) -> None:
        for source in self._sources:
            source.reload_if_changed()


class JwtVerifier:
    def __init__(self, keys: JwksKeys, issuer: str, audience: str) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._verified: OrderedDict[bytes, tuple[str, float, int]] = OrderedDict()
        self._lock = threading.Lock()

    def caller_of(self, token: bytes) -> str:
        """The token's `sub`. Raises BadCredential saying what was wrong."""
        self._keys.reload_if_changed()
        with self._lock:
            remembered = self._verified.get(token)
        if remembered is not None:
            subject, expires_at, generation = remembered
            if time.time() < expires_at + CLOCK_SKEW_S and generation == self._keys.generation:
                return subject
        generation = self._keys.generation
        subject, expires_at = self._verify(token)
        with self._lock:
            self._verified[token] = (subject, expires_at, generation)
            self._verified.move_to_end(token)
            if len(self._verified) > VERIFIED_TOKENS:
                self._verified.popitem(last=False)
        return subject

    def _verify(self, token: bytes) -> tuple[str, float]:
        if len(token) > MAX_TOKEN_BYTES:
            raise BadCredential("the token is too long")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise BadCredential("the token is malformed") from None
        kid = header.get("kid")
        key = self._keys.key(kid) if isinstance(kid, str) else None
        algorithm = ALGORITHM_OF_KEY_TYPE.get(key.key_type or "") if key else None
        if key is None or algorithm is None:
            raise BadCredential("the token is signed with an unknown key")
        if header.get("alg") != algorithm:
            raise BadCredential(f"the token's algorithm must be {algorithm} for its key")
        claims = self._decode(token, key, algorithm)
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise BadCredential("the token names no subject")
        return subject, float(claims["exp"])

    def _decode(self, token: bytes, key: jwt.PyJWK, algorithm: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=CLOCK_SKEW_S,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise BadCredential("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise BadCredential("the token is not valid yet") from None
        except jwt.InvalidAudienceError:
            raise BadCredential("the token is for another audience") from None
        except jwt.InvalidIssuerError:
            raise BadCredential("the token is from another issuer") from None
        except jwt.MissingRequiredClaimError as error:
            raise BadCredential(f"the token has no {error.claim} claim") from None
        except jwt.InvalidSignatureError:
            raise BadCredential("the token's signature does not verify") from None
        except jwt.InvalidTokenError:
            raise BadCredential("the token is malformed") from None
