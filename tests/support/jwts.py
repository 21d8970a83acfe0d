"""An issuer for the JWT tests: its keys, its JWKS document and the tokens it signs."""

from __future__ import annotations

import http.server
import json
import ssl
import threading
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


class JwksServer:
    """The issuer's JWKS over HTTPS on loopback, as the API server's /openid/v1/jwks: it wants
    a bearer token and remembers which ones it was shown."""

    def __init__(self, issuer: Issuer, cert: Path, key: Path, token: str) -> None:
        document = json.dumps(issuer.jwks()).encode()
        shown: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                shown.append(self.headers.get("Authorization", ""))
                if self.headers.get("Authorization") != f"Bearer {token}":
                    self.send_error(401)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(document)))
                self.end_headers()
                self.wfile.write(document)

            def log_message(self, *args: object) -> None:
                pass

        self.shown = shown
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self._server.server_address[1]}/openid/v1/jwks"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> JwksServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
