# syntax=docker/dockerfile:1
# The Telegram bot: the base install only (aiogram, RQ, and the CPU pipeline it renders the backdrop
# gallery with). No torch, no diffusers, no GPU.
#
# Build from the repository root (the build context is the repository; .dockerignore keeps it small):
#   docker build -f docker/bot.Dockerfile -t shopshot-bot .
# docker/compose.yaml builds and runs it as the service "bot".

# Python 3.11 as in development; Debian 12 like the development machines. For byte-for-byte
# reproducible builds, add the digest the registry reports for this tag (python:...@sha256:...).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PATH=/opt/venv/bin:$PATH \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
WORKDIR /build
# Dependencies first, in a layer of their own: a change to the code does not reinstall them.
COPY pyproject.toml README.md ./
COPY docker/requirements.py docker/
RUN python docker/requirements.py > requirements.txt \
 && pip install -r requirements.txt
COPY src src
# The .mo catalogs are build output (not committed): compile them before the package is installed,
# so that the installed package carries them.
RUN pybabel compile --statistics -D shopshot -d src/shopshot/locales \
 && pip install --no-deps .

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATA_DIR=/app/data
# A fixed uid, so that files on volumes keep one owner across rebuilds and machines.
RUN groupadd --system --gid 10001 shopshot \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --create-home --shell /usr/sbin/nologin shopshot \
 && mkdir /app/data \
 && chown shopshot:shopshot /app/data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# Numeric, so that a runtime can tell it is not root without reading /etc/passwd.
USER 10001:10001
# The process's own health endpoint (/healthz beside /metrics on OBSERVABILITY__METRICS_PORT): 200
# while the bot runs and reaches Redis, where it keeps conversations, the queue and the result stream.
ENV OBSERVABILITY__METRICS_PORT=9100
EXPOSE 9100
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['OBSERVABILITY__METRICS_PORT'], timeout=5)"]
ENTRYPOINT ["shopshot"]
CMD ["bot"]
