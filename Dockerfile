# The production image: the processes of `make run-prod` (gunicorn, a Celery worker and beat,
# stopped together) on PostgreSQL and Redis from the environment. See compose.yaml and the
# README's "Production" section.
FROM python:3.11.11-slim-bookworm

# Production by default, for every command run from the image (not only run_prod.py).
ENV DEBUG=0 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OMS_VAR_DIR=/var/lib/oms \
    STATIC_ROOT=/app/static

WORKDIR /app
# The same locked, hash-checked packages as `make install`.
COPY requirements.lock .
RUN pip install --no-cache-dir --require-hashes -r requirements.lock

COPY . .
RUN useradd --system --create-home --home-dir /var/lib/oms oms \
    # Static files are collected into the image; the start-up's collectstatic finds them current.
    && DEBUG=0 SECRET_KEY=collectstatic-only DATABASE_URL=sqlite:///:memory: \
       python manage.py collectstatic --noinput --verbosity 0 \
    && chown -R oms /app/static
USER oms

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s \
    CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
CMD ["python", "scripts/run_prod.py"]
