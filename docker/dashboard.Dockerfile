# syntax=docker/dockerfile:1
# rq-dashboard, the web view of RQ's queues, jobs and workers (compose profile "dashboard").
#
# Built here rather than pulled: the published images follow "latest", and the dashboard must read
# the queue with the RQ version the workers write it with (rq 3.0.0, see pyproject.toml). This set
# was tried against rq 3.0.0 (queue, worker and job lists); rq-dashboard 0.9.0 imports `six`
# without declaring it, hence six here.
FROM python:3.11.14-slim-bookworm
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1
RUN pip install rq-dashboard==0.9.0 rq==3.0.0 redis==7.4.1 six==1.17.0 Flask==3.1.3 arrow==1.4.0 \
 && groupadd --system --gid 10002 dashboard \
 && useradd --system --uid 10002 --gid 10002 --no-create-home --shell /usr/sbin/nologin dashboard
USER 10002:10002
EXPOSE 9181
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9181/', timeout=4)"]
# RQ_DASHBOARD_REDIS_URL comes from compose. It listens on every interface of its container so that
# compose can publish it; compose.yaml publishes it on the host's 127.0.0.1 only.
ENTRYPOINT ["rq-dashboard", "--bind", "0.0.0.0", "--port", "9181"]
