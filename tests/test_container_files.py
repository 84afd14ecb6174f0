"""The container files stay what the README promises: pinned images, the production command of
``make run-prod``, the same locked packages, and a build step that works."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE = (ROOT / "compose.yaml").read_text()


def test_every_image_is_pinned_to_a_full_version() -> None:
    images = re.findall(r"^FROM (\S+)", DOCKERFILE, re.MULTILINE) + re.findall(
        r"^\s+image: (\S+)", COMPOSE, re.MULTILINE
    )
    assert len(images) == 3, images
    for image in images:
        tag = image.partition(":")[2]
        assert re.match(r"^\d+\.\d+(\.\d+)?-", tag), f"{image} is not pinned to a version"


def test_the_image_runs_the_production_command_from_the_locked_packages() -> None:
    assert 'CMD ["python", "scripts/run_prod.py"]' in DOCKERFILE
    assert "--require-hashes -r requirements.lock" in DOCKERFILE
    assert re.search(r"^USER (?!root)\w+", DOCKERFILE, re.MULTILINE)
    # Every variable run_prod.py requires is given to the container.
    for variable in ("SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "OMS_WEBHOOK_SECRETS"):
        assert f"{variable}" in COMPOSE


def test_the_build_step_collects_the_static_files(tmp_path: Path) -> None:
    """The image's collectstatic line, as the build runs it (no database, no secret of its own)."""
    line = re.search(
        r"(DEBUG=0 SECRET_KEY=\S+ DATABASE_URL=\S+)\s*\\?\s*\n?\s*python manage.py "
        r"(collectstatic[^\n\\]*)",
        DOCKERFILE,
    )
    assert line is not None
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
