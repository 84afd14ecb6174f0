"""The container files stay what the documentation promises: pinned images; an image whose
runtime holds only the production packages, locked at the development lock's versions; one
compose service per role of ``scripts/run_prod.py``; secrets on disk kept out of the image and
the repository; and a build step that works.

No image is built here: the files are read as Docker and Compose read them."""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from scripts import run_prod

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE_TEXT = (ROOT / "compose.yaml").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
OMS_ROLES = ("migrate", "web", "worker", "beat")
DEV_PACKAGES = (
    "pytest",
    "mypy",
    "ruff",
    "selenium",
    "schemathesis",
    "hypothesis",
    "django-stubs",
    "openapi-python-client",
)
# The interpreters the locks are compiled for (``--python-version 3.11``: any 3.11, the image's
# 3.11.11 among them), for the markers of the packages' requirements.
LOCK_PYTHONS = ("3.11.0", "3.11.11")
LINUX_CPYTHON = {
    "python_version": "3.11",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
}


def stages() -> dict[str, str]:
    """The Dockerfile's build stages by name (``FROM … AS name``), each with its FROM line."""
    found = {}
    for block in re.split(r"^(?=FROM )", DOCKERFILE, flags=re.MULTILINE)[1:]:
        name = re.match(r"FROM \S+ AS (\S+)", block)
        assert name is not None, f"an unnamed stage: {block.splitlines()[0]}"
        found[name.group(1)] = block
    return found


def instructions(stage: str) -> list[str]:
    """A stage's instructions, continuation lines joined, comments dropped."""
    lines = [line for line in stage.splitlines() if not line.lstrip().startswith("#")]
    return [i.strip() for i in re.split(r"(?<!\\)\n", "\n".join(lines)) if i.strip()]


def locked(path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """A hash-checked lock: each package's version and hashes, by canonical name."""
    packages: dict[str, tuple[str, frozenset[str]]] = {}
    for entry in re.split(r"\n(?=[A-Za-z0-9])", path.read_text()):
        pin = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(\S+)", entry)
        if pin:
            hashes = frozenset(re.findall(r"--hash=(\S+)", entry))
            packages[canonicalize_name(pin.group(1))] = (pin.group(2), hashes)
    return packages


def runtime_closure() -> set[str]:
    """Every package [project.dependencies] needs in the image, extras followed, read from the
    installed packages' metadata (the development lock's versions)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pending = [Requirement(spec) for spec in pyproject["project"]["dependencies"]]
    needed: set[str] = set()
    followed: set[tuple[str, str]] = set()
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        needed.add(name)
        for extra in ("", *requirement.extras):
            if (name, extra) in followed:
                continue
            followed.add((name, extra))
            for spec in importlib.metadata.requires(name) or []:
                dependency = Requirement(spec)
                marker = dependency.marker
                if marker is None or any(
                    marker.evaluate({**LINUX_CPYTHON, "python_full_version": full, "extra": extra})
                    for full in LOCK_PYTHONS
                ):
                    pending.append(dependency)
    return needed


def oms_services() -> dict[str, dict[str, Any]]:
    return {role: COMPOSE["services"][role] for role in OMS_ROLES}


def dockerignored(path: str) -> bool:
    """Whether Docker leaves ``path`` (relative to the context) out of the build: the last
    matching pattern of .dockerignore decides, a pattern matching a folder covers its files."""
    excluded = False
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        regex = ""
        for token in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
            regex += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(
                token, re.escape(token)
            )
        parts = path.split("/")
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            excluded = not negated
    return excluded


def gitignored(path: str) -> bool:
    return (
        subprocess.run(
            ["git", "check-ignore", "--quiet", "--no-index", path], cwd=ROOT, check=False
        ).returncode
        == 0
    )


def test_every_image_is_pinned_to_a_full_version() -> None:
    images = re.findall(r"^FROM (\S+)", DOCKERFILE, re.MULTILINE) + re.findall(
        r"^\s+image: (\S+)", COMPOSE_TEXT, re.MULTILINE
    )
    assert len(images) == 4, images  # builder and runtime stages, postgres, redis
    for image in images:
        tag = image.partition(":")[2]
        assert re.match(r"^\d+\.\d+(\.\d+)?-", tag), f"{image} is not pinned to a version"
    # The runtime runs the builder's virtualenv, whose interpreter is the base image's.
    builder, runtime = (stage.split()[1] for stage in stages().values())
    assert builder == runtime


def test_the_runtime_stage_runs_the_production_command_on_the_production_packages_only() -> None:
    builder, runtime = stages()["builder"], stages()["runtime"]
    assert list(stages()) == ["builder", "runtime"]  # the image is the last stage
    # The builder installs the production lock, hash-checked, into the virtualenv it hands over.
    assert "pip install --require-hashes -r /tmp/requirements-prod.lock" in builder
    assert "COPY requirements-prod.lock" in builder
    assert "python -m venv /opt/venv" in builder
    # The runtime installs nothing: it copies that virtualenv and runs its interpreter.
    steps = instructions(runtime)
    assert "COPY --from=builder /opt/venv /opt/venv" in steps
    assert "PATH=/opt/venv/bin:$PATH" in runtime
    assert not [step for step in steps if "pip install" in step or "requirements.lock" in step]
    for package in DEV_PACKAGES:
        assert package not in runtime, package
    # .dockerignore keeps the development virtualenv out of `COPY . .`.
    assert dockerignored(".venv/bin/pytest")
    assert 'CMD ["python", "scripts/run_prod.py"]' in steps
    assert [step for step in steps if re.match(r"^USER (?!root\b)\w+$", step)]
    assert steps.index("USER oms") > steps.index("COPY . .")


def test_the_production_lock_pins_the_development_lock_without_its_tools() -> None:
    production = locked(ROOT / "requirements-prod.lock")
    development = locked(ROOT / "requirements.lock")
    assert production
    for name, (version, hashes) in production.items():
        assert name in development, f"{name} is not in requirements.lock"
        assert (version, hashes) == development[name], (
            f"{name} {version} differs from requirements.lock's {development[name][0]}"
        )
        assert hashes, f"{name} has no hashes"
    for package in DEV_PACKAGES:
        assert package not in production, f"{package} is a development tool"
    # Exactly what the runtime dependencies need: none missing (pip --require-hashes would stop
    # the build), nothing else (every other package is a development tool's).
    needed = runtime_closure()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for spec in pyproject["project"]["dependencies"]:
        assert canonicalize_name(Requirement(spec).name) in production, spec
    assert needed - set(production) == set(), "missing from requirements-prod.lock"
    assert set(production) - needed == set(), "not needed at run time"
    # It says how it is regenerated.
    header = (ROOT / "requirements-prod.lock").read_text().splitlines()[:3]
    assert any("-c requirements.lock -o requirements-prod.lock" in line for line in header)


def test_compose_runs_each_role_as_a_service_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    services = COMPOSE["services"]
    assert set(services) == {"postgres", "redis", *OMS_ROLES}
    for role, service in oms_services().items():
        assert service["build"] == "."
        assert service["command"] == ["python", "scripts/run_prod.py", role]
        assert service["init"] is True
    # The migrations run once, before the others, which start only when they succeeded.
    migrate = services["migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for role in ("web", "worker", "beat"):
        assert services[role]["restart"] == "unless-stopped"
        assert services[role]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }
        # Their role only checks that the schema is current; it never migrates.
        steps = run_prod.STEPS[role]
        assert run_prod.MIGRATIONS_APPLIED in steps
        assert [step for step in steps if step[0] == "migrate"] == [run_prod.MIGRATIONS_APPLIED]
    assert run_prod.MIGRATE in run_prod.STEPS["migrate"]
    # One beat, said where an operator scales, and enforced: compose refuses `--scale beat=2`
    # for a service with a fixed container name. Workers scale freely.
    assert services["beat"]["deploy"] == {"replicas": 1}
    assert services["beat"]["container_name"] == "${COMPOSE_PROJECT_NAME:-oms}-beat"
    assert "never scaled" in COMPOSE_TEXT
    assert "replicas" not in services["worker"].get("deploy", {})
    assert "container_name" not in services["worker"]
    # Only web serves HTTP; its health is readiness (/readyz), not liveness.
    assert [role for role, service in oms_services().items() if "ports" in service] == ["web"]
    assert services["web"]["ports"] == ["8000:8000"]
    assert services["web"]["healthcheck"]["test"] == [
        "CMD",
        *("python", "scripts/run_prod.py", run_prod.PROBE),
    ]
    # The probe asks the port web publishes: gunicorn's default bind, kept by compose.
    assert "GUNICORN_BIND" not in services["web"]["environment"]
    monkeypatch.delenv("GUNICORN_BIND", raising=False)
    assert run_prod.readiness_url() == "http://127.0.0.1:8000/readyz"
    assert not [role for role in ("migrate", "worker", "beat") if "healthcheck" in services[role]]
    # One image, several roles: no image-wide health check that only web could pass.
    assert not [step for step in instructions(DOCKERFILE) if step.startswith("HEALTHCHECK")]


def test_every_service_has_the_settings_run_prod_requires() -> None:
    environments = [service["environment"] for service in oms_services().values()]
    assert all(environment == environments[0] for environment in environments)  # one anchor
    environment = environments[0]
    for variable in (
        "SECRET_KEY",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "OMS_WEBHOOK_SECRETS_PAYMENT",
        "OMS_WEBHOOK_SECRETS_SHIPPING",
    ):
        assert environment[variable], variable
    assert environment["DATABASE_URL"].startswith("postgres://")
    assert environment["SECRET_KEY"] == "${SECRET_KEY:?set SECRET_KEY}"
    # Simulated provider clients are refused unless a demo says otherwise.
    assert environment["OMS_ALLOW_SIMULATED_PROVIDERS"] == "${OMS_ALLOW_SIMULATED_PROVIDERS:-0}"
    # Written once, in the shared settings, not copied into each service.
    assert len(re.findall(r"^\s+OMS_ALLOW_SIMULATED_PROVIDERS:", COMPOSE_TEXT, re.MULTILINE)) == 1


@pytest.mark.parametrize(
    "secrets_file", ["oms.env", ".env", ".env.production", "deploy/oms.env", "config/.env"]
)
def test_env_files_stay_out_of_the_image_and_the_repository(secrets_file: str) -> None:
    assert dockerignored(secrets_file)
    assert gitignored(secrets_file)


@pytest.mark.parametrize(
    "needed",
    [
        "manage.py",
        "requirements-prod.lock",
        "scripts/run_prod.py",
        "gunicorn.conf.py",
        "core/settings.py",
        "apps/orders/services.py",
    ],
)
def test_the_build_context_keeps_what_the_image_needs(needed: str) -> None:
    assert (ROOT / needed).exists()
    assert not dockerignored(needed)
    assert not gitignored(needed)


def test_the_build_step_collects_the_static_files(tmp_path: Path) -> None:
    """The image's collectstatic line, as the build runs it (no database, no secret of its own)."""
    line = re.search(
        r"(DEBUG=0 SECRET_KEY=\S+ DATABASE_URL=\S+)\s*\\?\s*\n?\s*python manage.py "
        r"(collectstatic[^\n\\]*)",
        DOCKERFILE,
    )
    assert line is not None
    assert line.group(0) in stages()["runtime"]
    env = {**os.environ, "STATIC_ROOT": str(tmp_path / "static")}
    env.update(dict(pair.split("=", 1) for pair in line.group(1).split()))
    subprocess.run(
        [sys.executable, "manage.py", *line.group(2).split()],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    assert (tmp_path / "static" / "staticfiles.json").exists()
    assert list((tmp_path / "static" / "admin" / "css").glob("base.*.css"))
