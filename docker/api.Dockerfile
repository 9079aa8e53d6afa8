# syntax=docker/dockerfile:1
# schedlab API image: slim CPython 3.11, the base dependencies of pyproject.toml only (no torch, no CUDA).
# Build from the repository root:  docker build -f docker/api.Dockerfile -t schedlab-api .

# 1. Builder: a virtual environment with the pinned API dependencies, then the schedlab package.
FROM python:3.11.14-slim-bookworm AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# Dependencies first, in their own layer: it is rebuilt only when the pins change.
COPY docker/requirements-api.txt docker/requirements-api.txt
RUN pip install -r docker/requirements-api.txt

COPY pyproject.toml README.md ./
COPY service service
COPY worker worker
# `pip install .` (no `worker` extra): the API never imports torch. Fail the build if anything pulled it in.
RUN pip install -c docker/requirements-api.txt . \
    && pip check \
    && python -c "import importlib.util as u, sys; bad = [m for m in ('torch', 'diffusers', 'transformers') if u.find_spec(m)]; sys.exit(f'API image must not contain {bad}' if bad else 0)"

# 2. Runtime: the same base, the virtual environment, a non-root user.
FROM python:3.11.14-slim-bookworm

RUN groupadd --system --gid 10001 schedlab \
    && useradd --system --uid 10001 --gid schedlab --home-dir /home/schedlab --create-home schedlab

COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

# Numeric, so a runtime that checks for non-root (runAsNonRoot) can verify it without reading /etc/passwd.
USER 10001:10001
WORKDIR /home/schedlab
EXPOSE 8000

# /healthz answers while the process is up; /readyz (Redis + a live worker) is for load balancers, not for
# restarting the API. python, not curl: the slim image has no curl.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]

CMD ["schedlab", "api", "--host", "0.0.0.0", "--port", "8000"]
