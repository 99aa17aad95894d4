# syntax=docker/dockerfile:1
#
# The sentimon image: one image for every process (consume, alerts dispatch, dashboard,
# topics, produce), entrypoint `sentimon`.
#
#   docker build -t sentimon:0.1.0 .                          # CPU (default)
#   docker build --build-arg GPU=1 -t sentimon:0.1.0-gpu .    # CUDA torch + onnxruntime-gpu
#
# The model: a fine-tuned model directory is expected at /models/default
# (SENTIMON_MODEL=/models/default). If ./models/ exists in the build context (`make model`
# writes ./models/default) it is baked in; otherwise mount a directory holding `default/`
# at /models (docker-compose.yml does, read-only).
#
# Not built on the project's machines (no docker engine there): tests/integration/
# test_compose.py lints this file (hadolint + structural checks).

############################ builder: a venv with everything ############################
FROM python:3.11.13-slim-bookworm AS builder

# GPU=1: torch from PyPI (its Linux wheels are the CUDA builds; or TORCH_GPU_INDEX, e.g.
# https://download.pytorch.org/whl/cu128) and the [gpu] extra (onnxruntime-gpu).
# GPU=0: torch from the CPU-only index and the [cpu] extra (onnxruntime).
ARG GPU=0
ARG TORCH_VERSION=2.13.0
ARG TORCH_CPU_INDEX=https://download.pytorch.org/whl/cpu
ARG TORCH_GPU_INDEX=

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH

RUN python -m venv /opt/venv

# torch first and on its own layer: it is the big one and changes least often.
RUN set -eu; \
    if [ "$GPU" = "1" ]; then \
        if [ -n "$TORCH_GPU_INDEX" ]; then \
            pip install --no-cache-dir --index-url "$TORCH_GPU_INDEX" "torch==${TORCH_VERSION}"; \
        else \
            pip install --no-cache-dir "torch==${TORCH_VERSION}"; \
        fi; \
    else \
        pip install --no-cache-dir --index-url "$TORCH_CPU_INDEX" "torch==${TORCH_VERSION}"; \
    fi

WORKDIR /src
COPY pyproject.toml README.md ./
COPY sentimon ./sentimon
COPY consumers ./consumers
COPY inference ./inference
COPY dashboard ./dashboard

# The pinned torch above satisfies the project's `torch==` pin (a +cpu local version
# matches it), so pip keeps it and installs the rest with exact pins from pyproject.toml.
# hadolint ignore=DL3013
RUN set -eu; \
    extra=cpu; \
    if [ "$GPU" = "1" ]; then extra=gpu; fi; \
    pip install --no-cache-dir ".[${extra}]"; \
    python -c "import torch, sentimon; print('torch', torch.__version__)"

############################ runtime: the venv, a user, no build tools ####################
FROM python:3.11.13-slim-bookworm AS runtime

ARG GPU=0
LABEL org.opencontainers.image.title="sentimon" \
      org.opencontainers.image.description="Streaming financial-sentiment monitor" \
      org.opencontainers.image.licenses="MIT" \
      io.sentimon.gpu="${GPU}"

RUN groupadd --system --gid 10001 sentimon \
    && useradd --system --uid 10001 --gid sentimon --home-dir /home/sentimon \
       --create-home --shell /usr/sbin/nologin sentimon \
    && install -d -o sentimon -g sentimon -m 0750 /var/lib/sentimon \
    && install -d -m 0755 /models

COPY --from=builder /opt/venv /opt/venv

WORKDIR /app
# The sample feed for the compose `demo` profile (sentimon produce data/sample/...).
COPY data/sample ./data/sample
# Baked model, if the build context has ./models/ (BuildKit copies nothing when the
# wildcard matches nothing). A volume mounted at /models replaces it.
COPY model[s] /models/

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SENTIMON_MODEL=/models/default \
    SENTIMON_STATE_DIR=/var/lib/sentimon \
    SENTIMON_KAFKA_PROFILE=kafka \
    HF_HOME=/var/lib/sentimon/hf \
    HF_HUB_OFFLINE=1 \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false

# Numeric, so runtimes (Kubernetes runAsNonRoot) can verify it is not root.
USER 10001:10001

# 9400 consumer metrics/health, 9401 dispatcher metrics/health, 8501 dashboard.
EXPOSE 9400 9401 8501

# No HEALTHCHECK here: one image runs several processes; each compose service has its own.
ENTRYPOINT ["sentimon"]
CMD ["--help"]
