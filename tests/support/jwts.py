"""An issuer for the JWT tests: its keys, its JWKS document and the tokens it signs."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://kubernetes.default.svc.cluster.local"
AUDIENCE = "findsvc"
CALLER = "system:serviceaccount:shop:checkout"


class Issuer:
    """An RSA key (kid `rsa-1`) and an EC P-256 key (kid `ec-1`), as a cluster's issuer has."""

    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())

    def jwks(self) -> dict[str, Any]:
        rsa_jwk = json.loads(RSAAlgorithm.to_jwk(self.rsa.public_key()))
        ec_jwk = json.loads(ECAlgorithm.to_jwk(self.ec.public_key()))
        return {
            "keys": [
                {**rsa_jwk, "kid": "rsa-1", "use": "sig", "alg": "RS256"},
                {**ec_jwk, "kid": "ec-1", "use": "sig", "alg": "ES256"},
            ]
        }

    def write_jwks(self, path: Path) -> Path:
        path.write_text(json.dumps(self.jwks()))
        return path

    def token(
        self, kid: str = "rsa-1", headers: dict[str, Any] | None = None, **claims: Any
    ) -> str:
        """A token for CALLER, valid for ten minutes, unless `claims` says otherwise."""
        now = int(time.time())
        payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": CALLER, "iat": now, "exp": now + 600}
        payload.update(claims)
        payload = {key: value for key, value in payload.items() if value is not None}
        key, algorithm = (self.rsa, "RS256") if kid.startswith("rsa") else (self.ec, "ES256")
        return jwt.encode(payload, key, algorithm, headers={"kid": kid, **(headers or {})})
