# Master-Ops: one image for `ops serve`, `ops worker` and every other command.
#
#   docker build -t masterops .
#   docker run --rm --env-file .env masterops config check
#
# Two stages: the first builds a virtualenv from the pinned constraints (compilers and
# headers stay there); the second copies only that virtualenv onto a slim Python and runs
# as an unprivileged user. compose.yaml and docs/operations.md show the whole topology.

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/masterops
WORKDIR /src
# Dependencies first (the constraints pin every version), so a code change reuses them.
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
RUN /opt/masterops/bin/pip install --no-compile -c constraints.txt . \
 && /opt/masterops/bin/python -m compileall -q /opt/masterops/lib

FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
LABEL org.opencontainers.image.title="Master-Ops" \
      org.opencontainers.image.description="Operations platform: Unleashed, HubSpot and n8n kept in step with one PostgreSQL"
# No root at run time: a fixed uid/gid, so volumes can be prepared for it.
RUN groupadd --system --gid 10001 masterops \
 && useradd --system --uid 10001 --gid masterops --home-dir /var/lib/masterops \
      --create-home --shell /usr/sbin/nologin masterops
COPY --from=build /opt/masterops /opt/masterops
ENV PATH=/opt/masterops/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MASTEROPS_HOME=/var/lib/masterops/home \
    MASTEROPS_CONFIG=/etc/masterops/masterops.toml \
    MASTEROPS_LOG_JSON=true
WORKDIR /var/lib/masterops
USER masterops:masterops
EXPOSE 8080
# /healthz answers when the process does; /readyz also needs the database and its schema.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["ops"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
