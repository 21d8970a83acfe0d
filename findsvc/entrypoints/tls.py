"""The listening port: plaintext, TLS, or mutual TLS, with certificates reloaded on change."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import cast

import grpc

from findsvc.config import ConfigError, Settings
from findsvc.entrypoints.file_watch import FileWatch

log = logging.getLogger(__name__)


class CertificateFiles:
    """The PEM files behind the server's credentials; a new handshake sees a changed file.

    gRPC asks `fetch_if_changed` before each handshake: a renewed certificate (cert-manager,
    a rotated Secret) takes effect for new connections without a restart.
    """

    def __init__(self, cert: Path, key: Path, client_ca: Path | None) -> None:
        self._cert, self._key, self._client_ca = cert, key, client_ca
        self._watch = FileWatch(cert, key, *((client_ca,) if client_ca else ()))
        self._unreadable = False  # reported once, until the files read again
        self.initial = self._load()

    def _load(self) -> grpc.ServerCertificateConfiguration:
        # Check the pair here, where a mistake is one clear line, not a failed handshake later.
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
                self._cert, self._key
            )
            if self._client_ca is not None:
                ssl.create_default_context(cafile=self._client_ca)
        except (ssl.SSLError, OSError):
            raise ConfigError(
                "FINDSVC_TLS_CERT, FINDSVC_TLS_KEY, FINDSVC_TLS_CLIENT_CA: expected a PEM "
                "certificate chain, its private key and (for mTLS) a PEM CA bundle"
            ) from None
        return grpc.ssl_server_certificate_configuration(
            [(self._key.read_bytes(), self._cert.read_bytes())],
            root_certificates=self._client_ca.read_bytes() if self._client_ca else None,
        )

    def fetch_if_changed(self) -> grpc.ServerCertificateConfiguration | None:
        try:
            if not self._watch.changed():
                return None
            configuration = self._load()
        except (ConfigError, OSError) as error:
            # Mid-rotation files may be half written: keep serving the last good ones. Files
            # that changed are tried, and so reported, once per change (the watch says so
            # once); files that cannot be read fail every look, so they are reported once.
            unreadable = isinstance(error, OSError)
            if not (unreadable and self._unreadable):
                log.warning("TLS files changed but do not load; keeping the current certificate")
            self._unreadable = unreadable
            return None
        self._unreadable = False
        log.info("TLS certificate reloaded")
        return configuration


def add_listening_port(server: grpc.Server, settings: Settings) -> int:
    """Raises ConfigError for unusable TLS files, RuntimeError when the port is taken."""
    if settings.tls_cert is None or settings.tls_key is None:
        return server.add_insecure_port(settings.listen_address)
    files = CertificateFiles(settings.tls_cert, settings.tls_key, settings.tls_client_ca)
    # The fetcher may return None ("unchanged"); grpc-stubs says otherwise.
    fetcher = cast("Callable[[], grpc.ServerCertificateConfiguration]", files.fetch_if_changed)
    credentials = grpc.dynamic_ssl_server_credentials(
        files.initial,
        fetcher,
        require_client_authentication=settings.tls_client_ca is not None,
    )
    return server.add_secure_port(settings.listen_address, credentials)
