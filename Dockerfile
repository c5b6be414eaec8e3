# The FlowForge resilience harness as an image: `harness` CLI, toxics client,
# Locust users and probes. compose/load.yaml builds it for Locust master and
# workers (overriding the entrypoint with `locust`).
#
#   docker build -t flowforge/harness:local .
#   docker run --rm flowforge/harness:local validate experiments/clickhouse-latency.yaml
#
# The stack itself is not in here: the harness drives it through a Docker API
# (mount the socket) or runs the local backend's Debian programs, which this
# slim image does not carry.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The whole project (see .dockerignore): experiments/, locustfiles/ and
# compose/ are read from the working folder at run time, not only imported.
COPY . .
# Editable: the harness finds experiments/, compose/ and locustfiles/ beside its code.
RUN pip install -e .

# Root by default: talking to a mounted Docker socket usually needs it.
ENTRYPOINT ["harness"]
CMD ["--help"]
