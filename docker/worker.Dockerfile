# syntax=docker/dockerfile:1
# schedlab GPU worker image: CUDA 13.0 base, PyTorch 2.13.0 built for CUDA 13.0 (cu130), `.[worker]` on top.
# Build from the repository root:  docker build -f docker/worker.Dockerfile -t schedlab-worker .
#
# Host requirement: an NVIDIA driver that supports CUDA 13.0 (R580 or newer) and the NVIDIA Container Toolkit.
# The `base` flavour of nvidia/cuda is enough: it carries the CUDA runtime (cudart) and the NVIDIA_* variables the
# container toolkit reads (including NVIDIA_REQUIRE_CUDA, which refuses to start on too old a driver). torch's
# cu130 wheels bring their own cuBLAS, cuDNN, NCCL... as pip packages, so the `runtime` flavour would only add
# about 2.5 GB of libraries that nothing loads. Bump the three CUDA versions together (here, TORCH_CUDA, both FROMs).

# 1. Builder: a virtual environment with the CUDA build of torch, then schedlab[worker] without a second torch.
FROM nvidia/cuda:13.0.2-base-ubuntu24.04 AS builder

ARG DEBIAN_FRONTEND=noninteractive
# Not pinning apt versions: Ubuntu's archive drops superseded versions, so pins would break rebuilds after every
# security update; the base image tag pins the distribution release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*

RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# torch from the PyTorch wheel index for this CUDA (its local version label, +cu130, exists only there);
# PyPI as the extra index for torch's own dependencies. Its own layer, a few GB, rebuilt only when these change.
ARG TORCH_VERSION=2.13.0
ARG TORCH_CUDA=cu130
RUN pip install \
        --index-url "https://download.pytorch.org/whl/${TORCH_CUDA}" \
        --extra-index-url https://pypi.org/simple \
        "torch==${TORCH_VERSION}+${TORCH_CUDA}" \
    && printf 'torch==%s+%s\n' "${TORCH_VERSION}" "${TORCH_CUDA}" > /opt/venv/torch-constraint.txt

WORKDIR /src
COPY pyproject.toml README.md ./
COPY service service
COPY worker worker
# The constraint makes pip keep the CUDA torch (pyproject's torch==2.13.0 matches 2.13.0+cu130) and fail
# loudly, rather than swap in PyPI's build, if a dependency ever asks for another torch.
RUN pip install -c /opt/venv/torch-constraint.txt ".[worker]" \
    && pip check \
    && python -c "import sys, torch; v = torch.version.cuda or ''; sys.exit(0 if v.startswith('13.0') else f'torch {torch.__version__} is built for CUDA {v!r}, expected 13.0')"

# 2. Runtime: the same base with Python, the virtual environment, a non-root user and the cache volume.
FROM nvidia/cuda:13.0.2-base-ubuntu24.04

ARG DEBIAN_FRONTEND=noninteractive
# Same reason as above for not pinning apt versions. gcc, libc6-dev and python3-dev: torch.compile's Triton
# backend builds a small C launcher at run time and needs a C compiler and Python.h (SCHEDLAB_COMPILE_UNET=true).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 ca-certificates gcc libc6-dev python3-dev \
    && rm -rf /var/lib/apt/lists/*

# /cache holds the Hugging Face cache, schedlab's own cache, torch.compile's kernels and the GPU claim locks.
# It is created here, owned by the worker user, so a fresh named volume mounted on it inherits that ownership.
RUN groupadd --system --gid 10001 schedlab \
    && useradd --system --uid 10001 --gid schedlab --home-dir /home/schedlab --create-home schedlab \
    && mkdir -p /cache/huggingface /cache/schedlab /cache/torchinductor /cache/triton /cache/gpu-locks \
    && chown -R schedlab:schedlab /cache

COPY --from=builder /opt/venv /opt/venv
COPY --chmod=0755 docker/worker-entrypoint.sh /usr/local/bin/schedlab-claim-gpu
COPY --chmod=0755 scripts/gpu-smoke.sh /usr/local/bin/schedlab-gpu-smoke

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HOME=/cache/huggingface \
    SCHEDLAB_MODEL_CACHE_DIR=/cache/schedlab \
    TORCHINDUCTOR_CACHE_DIR=/cache/torchinductor \
    TRITON_CACHE_DIR=/cache/triton \
    GPU_LOCK_DIR=/cache/gpu-locks

# Numeric, so a runtime that checks for non-root (runAsNonRoot) can verify it without reading /etc/passwd.
USER 10001:10001
WORKDIR /home/schedlab
VOLUME ["/cache"]

# The entrypoint gives this container one GPU of its own (see docker/worker-entrypoint.sh), then execs the command.
ENTRYPOINT ["/usr/local/bin/schedlab-claim-gpu"]
CMD ["schedlab", "worker"]
