# Backend API server: build stage (compiler, -dev packages, unit tests) and a runtime
# stage that holds only the binary and the shared libraries it links against.
#
#   scripts/images.sh                      # make images: docker build, or buildah without a daemon
#   docker build -f docker/backend.Dockerfile -t localhost/webapp-backend:dev .
#
# The base is pinned by tag; pin it by digest for reproducible builds:
#   --build-arg BASE_IMAGE=debian:bookworm-slim@sha256:<digest>
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      gcc make libc6-dev pkg-config \
      libmicrohttpd-dev libpq-dev libhiredis-dev libjansson-dev libunistring-dev check \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY backend/ backend/
# Declared after the slow steps so that a new version does not invalidate their cache.
ARG VERSION=dev
ARG REVISION=unknown
# The unit tests run on the same optimised build that ships; `make test` also runs
# them under AddressSanitizer outside the image.
RUN make -C backend clean \
 && make -C backend check-release VERSION="${VERSION}" REVISION="${REVISION}" \
 && make -C backend release VERSION="${VERSION}" REVISION="${REVISION}" \
 && strip --strip-unneeded backend/build/release/backend \
 && backend/build/release/backend --version

FROM ${BASE_IMAGE} AS runtime
# Only the shared libraries (no -dev packages, no compiler), no package lists left behind.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libmicrohttpd12 libpq5 libhiredis0.14 libjansson4 libunistring2 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \
      /var/cache/debconf/*-old /var/lib/dpkg/*-old \
 && groupadd --gid 10001 app \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin app
COPY --from=build /src/backend/build/release/backend /usr/local/bin/backend

# A numeric user so that Kubernetes can verify runAsNonRoot without a passwd lookup.
USER 10001:10001
ENV SERVER_PORT=8080 \
    BIND_ADDRESS=0.0.0.0
EXPOSE 8080
# SIGTERM: readiness turns 503, the server drains (SHUTDOWN_DRAIN_SECONDS), then exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/backend"]

ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=unknown
ARG BASE_IMAGE
LABEL org.opencontainers.image.title="webapp-backend" \
      org.opencontainers.image.description="Users API on PostgreSQL with a Redis cache, CPU stress endpoint, health and Prometheus metrics (C11, libmicrohttpd)" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"
