# Frontend: the static site and nginx, as a non-root user on port 8080. The backend
# address comes from BACKEND_URL when the container starts; nginx writes only under
# NGINX_PREFIX (/tmp/nginx), so the root filesystem can be read-only with a tmpfs
# (Kubernetes: an emptyDir) on /tmp.
#
#   scripts/images.sh                      # make images: docker build, or buildah without a daemon
#   docker build -f docker/frontend.Dockerfile -t localhost/webapp-frontend:dev .
#   docker run --read-only --tmpfs /tmp -p 127.0.0.1:8080:8080 \
#     -e BACKEND_URL=http://backend:8080 localhost/webapp-frontend:dev
#
# The base is pinned by tag; pin it by digest for reproducible builds:
#   --build-arg BASE_IMAGE=debian:bookworm-slim@sha256:<digest>
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE}
# Debian's nginx package is the "light" build (core modules only; nginx-light adds the
# echo module on top of it). Its default site and logs are not used: the configuration
# is rendered from frontend/nginx/nginx.conf.template at start. iproute2, a dependency,
# would bring a C header: dpkg is told to skip headers in this runtime image.
RUN echo 'path-exclude /usr/include/*' >/etc/dpkg/dpkg.cfg.d/no-headers \
 && apt-get update \
 && apt-get install -y --no-install-recommends nginx \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \
      /var/cache/debconf/*-old /var/lib/dpkg/*-old \
      /etc/nginx/sites-enabled/default /var/log/nginx/* \
 && groupadd --gid 10001 app \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin app

# Same layout as the repository, so render.sh finds ../public by itself.
COPY frontend/nginx/ /usr/share/webapp/nginx/
COPY frontend/public/ /usr/share/webapp/public/
COPY docker/frontend-entrypoint.sh /usr/local/bin/frontend-entrypoint

USER 10001:10001
ENV BACKEND_URL=http://backend-service:8080 \
    LISTEN_PORT=8080 \
    SITE_ROOT=/usr/share/webapp/public \
    NGINX_PREFIX=/tmp/nginx \
    NGINX_WORKER_PROCESSES=2
EXPOSE 8080
# SIGQUIT: nginx finishes the requests in flight, then exits (SIGTERM would cut them).
STOPSIGNAL SIGQUIT
ENTRYPOINT ["/bin/sh", "/usr/local/bin/frontend-entrypoint"]

ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=unknown
ARG BASE_IMAGE
LABEL org.opencontainers.image.title="webapp-frontend" \
      org.opencontainers.image.description="Users UI and live autoscaling view, served by nginx with the API proxied to the backend" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"
