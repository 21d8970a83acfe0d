# syntax=docker/dockerfile:1
# findsvc's image: `make image`. The base is pinned by tag; to pin it by digest as well
# (reproducible builds, no silent base changes), look the digest up once and build with it:
#   docker buildx imagetools inspect python:3.11.13-slim-bookworm   # prints "Digest: sha256:..."
#   make image PYTHON_IMAGE=python:3.11.13-slim-bookworm@sha256:<digest>
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

# Build: a virtualenv with findsvc and its wheels. grpcio and protobuf ship manylinux wheels,
# so no compiler is needed here either.
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/findsvc
COPY pyproject.toml README.md ./
COPY gen ./gen
COPY findsvc ./findsvc
# Compile the .pyc files now: the runtime's root filesystem is read-only.
# The import check fails the build if PyMySQL's rsa extra (MySQL 8 logins) went missing.
RUN /opt/findsvc/bin/pip install --no-cache-dir . \
    && /opt/findsvc/bin/python -c "import cryptography" \
    && /opt/findsvc/bin/pip uninstall --yes pip \
    && /opt/findsvc/bin/python -m compileall -q /opt/findsvc/lib

# Runtime: the same slim base, the virtualenv, and nothing else: no sources, tests or caches.
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="findsvc" \
      org.opencontainers.image.description="The Find service of the UMS: who is user NAME? over gRPC"
RUN groupadd --system --gid 10001 findsvc \
    && useradd --system --uid 10001 --gid findsvc --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin findsvc
COPY --from=build /opt/findsvc /opt/findsvc
# Only /tmp is writable in the pod (an emptyDir): HOME and the working directory live there,
# and the embedded SQLite fallback too, though a deployment always sets FINDSVC_DB_URL.
ENV PATH=/opt/findsvc/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    FINDSVC_PORT=50051 \
    FINDSVC_METRICS_PORT=9464 \
    FINDSVC_DB_URL=sqlite:////tmp/findsvc.db
WORKDIR /tmp
USER 10001:10001
EXPOSE 50051 9464
# `findsvc serve` by default; `docker run IMAGE db init` runs another subcommand.
ENTRYPOINT ["findsvc"]
CMD ["serve"]
