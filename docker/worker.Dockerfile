# syntax=docker/dockerfile:1
# A render worker, in one of two variants (build argument VARIANT):
#   gpu (default): the diffusion backend on an NVIDIA GPU, with torch and diffusers (`pip install .[gpu]`).
#   cpu: the studio backend on a slim Python image (`pip install .`), no torch, no GPU.
#
# Build from the repository root (the build context is the repository; .dockerignore keeps it small):
#   docker build -f docker/worker.Dockerfile -t shopshot-worker .
#   docker build -f docker/worker.Dockerfile --build-arg VARIANT=cpu -t shopshot-worker-cpu .
#
# Model weights are never baked in: they live in the Hugging Face cache, HF_HOME=/models, on a volume
# that `shopshot models pull` fills once (docker compose --profile models run --rm models).
ARG VARIANT=gpu

# Why NVIDIA's CUDA image in its *base* flavour, not cudnn-runtime: torch 2.13's Linux wheels on
# PyPI (2.13.0 checked) carry their own CUDA 13.0 user-space libraries as pip packages (cuda-toolkit
# 13.0.3, cuDNN 9.20, NCCL). A runtime or cudnn image would add a second, unused copy of them
# (gigabytes), and a 12.x one would not even match. What the base flavour adds is what the
# container side needs: the NVIDIA_* variables the NVIDIA Container Toolkit reads, among them
# NVIDIA_REQUIRE_CUDA=cuda>=13.0, so a host whose driver is too old for CUDA 13 is refused at start
# with a clear message instead of failing later inside torch. Its tag names the CUDA version torch
# uses; change both together. Ubuntu 24.04's Python is 3.12, which pyproject allows (3.11, 3.12).
FROM nvidia/cuda:13.0.2-base-ubuntu24.04 AS os-gpu
ENV EXTRAS=gpu \
    BACKEND=diffusion
# Ubuntu's python3 is the point release the image's Ubuntu ships: pinning it would break the build
# at the next security update.
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-venv \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /opt/venv

FROM python:3.11.14-slim-bookworm AS os-cpu
ENV EXTRAS="" \
    BACKEND=studio
RUN python -m venv /opt/venv

# os-${VARIANT} is one of the stages above, not an image from a registry: it has no tag to pin.
# hadolint ignore=DL3006
FROM os-${VARIANT} AS build
ENV PATH=/opt/venv/bin:$PATH \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
# Another torch build (another CUDA version) comes from PyTorch's own index: pass its URL here and
# change the CUDA image's tag above to the same CUDA version.
ARG PIP_EXTRA_INDEX_URL
WORKDIR /build
# Dependencies first, in a layer of their own: a change to the code does not download torch again.
COPY pyproject.toml README.md ./
COPY docker/requirements.py docker/
# $EXTRAS unquoted on purpose: empty for the cpu variant, so no argument at all.
# hadolint ignore=SC2086
RUN python docker/requirements.py $EXTRAS > requirements.txt \
 && pip install -r requirements.txt
COPY src src
# The .mo catalogs are build output (not committed): compile them before the package is installed,
# so that the installed package carries them.
RUN pybabel compile --statistics -D shopshot -d src/shopshot/locales \
 && pip install --no-deps .

# hadolint ignore=DL3006
FROM os-${VARIANT}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATA_DIR=/app/data \
    HF_HOME=/models
# A fixed uid, so that files on volumes keep one owner across rebuilds and machines. /models is made
# here, owned by that user: a new named volume mounted on it takes this owner, so the worker can
# write the cache without root.
RUN groupadd --system --gid 10001 shopshot \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --create-home --shell /usr/sbin/nologin shopshot \
 && mkdir /app/data /models \
 && chown shopshot:shopshot /app/data /models
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# Numeric, so that a runtime can tell it is not root without reading /etc/passwd.
USER 10001:10001
# The worker's own health endpoint (/healthz beside /metrics on OBSERVABILITY__METRICS_PORT): 200
# while its Redis answers and its RQ heartbeat is fresh. It comes up after the backend has loaded
# (the diffusion weights onto the GPU): the start period covers that.
ENV OBSERVABILITY__METRICS_PORT=9101
EXPOSE 9101
HEALTHCHECK --interval=30s --timeout=10s --start-period=5m --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['OBSERVABILITY__METRICS_PORT'], timeout=5)"]
ENTRYPOINT ["shopshot"]
CMD ["worker"]
