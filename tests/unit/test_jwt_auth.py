"""JWT auth: which tokens name their caller, and what a refused one is told."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from findsvc.entrypoints.middleware.jwt_auth import (
    BadCredential,
    JwksError,
    JwksFile,
    JwtVerifier,
    read_jwks,
)
from tests.support.jwts import AUDIENCE, CALLER, ISSUER, Issuer


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture
def verifier(issuer: Issuer, tmp_path: Path) -> JwtVerifier:
    return JwtVerifier(JwksFile(issuer.write_jwks(tmp_path / "jwks.json")), ISSUER, AUDIENCE)


def refusal(verifier: JwtVerifier, token: str) -> str:
    with pytest.raises(BadCredential) as refused:
        verifier.caller_of(token.encode())
    assert token not in str(refused.value)
    return str(refused.value)


def unsigned(header: dict[str, str], claims: dict[str, object]) -> str:
    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


class TestAcceptedTokens:
    def test_an_rs256_token_names_its_service_account(
        self, verifier: JwtVerifier, issuer: Issuer
    ) -> None:
        assert verifier.caller_of(issuer.token().encode()) == CALLER

    def test_an_es256_token_names_its_service_account(
        self, verifier: JwtVerifier, issuer: Issuer
    ) -> None:
        assert verifier.caller_of(issuer.token(kid="ec-1").encode()) == CALLER

    def test_a_token_just_expired_passes_within_the_clock_skew(
        self, verifier: JwtVerifier, issuer: Issuer
    ) -> None:
        token = issuer.token(exp=int(time.time()) - 5)
        assert verifier.caller_of(token.encode()) == CALLER


class TestRefusedTokens:
    def test_expired(self, verifier: JwtVerifier, issuer: Issuer) -> None:
        token = issuer.token(exp=int(time.time()) - 3600)
        assert refusal(verifier, token) == "the token has expired"

    def test_not_yet_valid(self, verifier: JwtVerifier, issuer: Issuer) -> None:
        token = issuer.token(nbf=int(time.time()) + 3600)
        assert refusal(verifier, token) == "the token is not valid yet"

    def test_wrong_issuer(self, verifier: JwtVerifier, issuer: Issuer) -> None:
        token = issuer.token(iss="https://another.cluster")
        assert refusal(verifier, token) == "the token is from another issuer"

    def test_wrong_audience(self, verifier: JwtVerifier, issuer: Issuer) -> None:
        token = issuer.token(aud="vault")
        assert refusal(verifier, token) == "the token is for another audience"

    def test_no_expiry(self, verifier: JwtVerifier, issuer: Issuer) -> None:
        assert refusal(verifier, issuer.token(exp=None)) == "the token has no exp claim"

    def test_no_subject(self, verifier: JwtVerifier, issuer: Issuer) -> None:
        assert refusal(verifier, issuer.token(sub=None)) == "the token has no sub claim"

    def test_an_unknown_kid(self, verifier: JwtVerifier, issuer: Issuer) -> None:
        token = issuer.token(headers={"kid": "rotated-away"})
        assert refusal(verifier, token) == "the token is signed with an unknown key"

    def test_alg_none(self, verifier: JwtVerifier) -> None:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": CALLER, "exp": now + 600}
        token = unsigned({"alg": "none", "kid": "rsa-1"}, claims)
        assert refusal(verifier, token) == "the token's algorithm must be RS256 for its key"

    def test_hs256_signed_with_the_public_key(self, verifier: JwtVerifier, issuer: Issuer) -> None:
        public_pem = issuer.rsa.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": CALLER, "exp": now + 600}
        header = {"alg": "HS256", "kid": "rsa-1", "typ": "JWT"}
        signing = unsigned(header, claims)[:-1].encode()  # without the empty signature's dot
        mac = hmac.new(public_pem, signing, hashlib.sha256).digest()
        token = signing.decode() + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
        assert refusal(verifier, token) == "the token's algorithm must be RS256 for its key"

    def test_es256_claimed_for_an_rsa_key(self, verifier: JwtVerifier, issuer: Issuer) -> None:
        token = issuer.token(kid="ec-1", headers={"kid": "rsa-1"})
        assert refusal(verifier, token) == "the token's algorithm must be RS256 for its key"

    def test_a_forged_signature(self, verifier: JwtVerifier, issuer: Issuer) -> None:
        header, claims, _ = issuer.token().split(".")
        forged_claims = issuer.token(sub="system:serviceaccount:kube-system:admin").split(".")[1]
        _, _, signature = issuer.token().split(".")
        token = f"{header}.{forged_claims}.{signature}"
        assert claims != forged_claims  # the claims changed, the signature did not
        assert refusal(verifier, token) == "the token's signature does not verify"

    @pytest.mark.parametrize("token", ["a.b.c", "not-a-jwt", "e30.e30.", "x" * 20000])
    def test_malformed(self, verifier: JwtVerifier, token: str) -> None:
        assert refusal(verifier, token) in (
            "the token is malformed",
            "the token is too long",
            "the token is signed with an unknown key",
        )


class TestTheJwksFile:
    def test_keys_without_a_kid_or_of_another_type_are_not_used(self, tmp_path: Path) -> None:
        path = tmp_path / "jwks.json"
        path.write_text(json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}]}))
        with pytest.raises(JwksError, match="no RSA or EC signing key"):
            read_jwks(path)

    def test_a_file_that_is_not_json_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "jwks.json"
        path.write_text("<html>")
        with pytest.raises(JwksError, match="not a JWKS document"):
            read_jwks(path)

    def test_a_rotated_key_is_used_without_a_restart(self, issuer: Issuer, tmp_path: Path) -> None:
        path = issuer.write_jwks(tmp_path / "jwks.json")
        verifier = JwtVerifier(JwksFile(path), ISSUER, AUDIENCE)
        rotated = Issuer()
        staged = rotated.write_jwks(tmp_path / "jwks.new")
        staged.replace(path)
        deadline = time.monotonic() + 10
        while True:
            try:
                assert verifier.caller_of(rotated.token().encode()) == CALLER
                break
            except BadCredential:
                assert time.monotonic() < deadline, "the rotated key was never loaded"
                time.sleep(0.1)
        assert refusal(verifier, issuer.token()) == "the token's signature does not verify"


def test_pyjwt_refuses_hmac_with_an_asymmetric_key_on_its_own() -> None:
    """A second lock on the HS256 door: PyJWT itself will not use a PEM key as an HMAC secret."""
    with pytest.raises(jwt.InvalidKeyError):
        jwt.encode(
            {"sub": "x"}, "-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----", "HS256"
        )
