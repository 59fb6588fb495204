# Slim image: nginx (buffering, timeouts) in front of gunicorn, both as a non-root user
# (deploy/serve starts and stops them together), data on a volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    SURVEY_DATA_DIR=/data SURVEY_BIND=0.0.0.0:8000

WORKDIR /app
COPY requirements.txt .
RUN apt-get update && apt-get install -y --no-install-recommends nginx \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir -r requirements.txt \
    && useradd --system --uid 10001 --home /app survey \
    && mkdir /data && chown survey /data

COPY wsgi.py gunicorn.conf.py ./
COPY deploy ./deploy
COPY survey ./survey
COPY forms ./forms
COPY exports ./exports

USER survey
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["deploy/serve"]
