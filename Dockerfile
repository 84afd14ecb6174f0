# The production image: one image for every role of scripts/run_prod.py (`migrate`, `web`,
# `worker`, `beat`; without a role, all of them as `make run-prod` runs them) on PostgreSQL and
# Redis from the environment. See compose.yaml and docs/operations.md "Production".

# Builder: the runtime packages of requirements-prod.lock (no test or lint tools), hash-checked,
# in a virtualenv the runtime stage copies whole.
FROM python:3.11.11-slim-bookworm AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
COPY requirements-prod.lock /tmp/requirements-prod.lock
RUN /opt/venv/bin/pip install --require-hashes -r /tmp/requirements-prod.lock

# Runtime: the same base image (the venv's interpreter links to it), the venv, the code.
FROM python:3.11.11-slim-bookworm AS runtime

# Production by default, for every command run from the image (not only run_prod.py).
ENV DEBUG=0 \
    PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    OMS_VAR_DIR=/var/lib/oms \
    STATIC_ROOT=/app/static

COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
# .dockerignore keeps out the development virtualenv, the tests and any *.env file of secrets.
COPY . .
RUN useradd --system --create-home --home-dir /var/lib/oms oms \
    # Static files are collected into the image; the start-up's collectstatic finds them current.
    && DEBUG=0 SECRET_KEY=collectstatic-only DATABASE_URL=sqlite:///:memory: \
       python manage.py collectstatic --noinput --verbosity 0 \
    && chown -R oms /app/static
USER oms

EXPOSE 8000
# No HEALTHCHECK here: the image runs several roles and only `web` answers HTTP, so a check
# baked into the image would call every worker and beat container unhealthy. compose.yaml gives
# `web` its check (`scripts/run_prod.py probe`, GET /readyz); worker and beat containers stop
# when their process does, and their work shows in /readyz's subscription lag.
CMD ["python", "scripts/run_prod.py"]
