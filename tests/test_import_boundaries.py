"""Who may import whom (DESIGN §3): events and shared know no app; payments and shipping know
nothing of each other; orders neither; only the webhooks adapter knows the providers' apps.

Read from the source with ``ast``, so a lazy import inside a function or a dotted path handed to
``import_string`` counts as much as an import at the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    # The event machinery is reusable: it knows no domain and no other app.
    "apps.events": (
        "apps.orders",
        "apps.payments",
        "apps.shipping",
        "apps.webhooks",
        "apps.idempotency",
    ),
    "apps.idempotency": ("apps.orders", "apps.payments", "apps.shipping", "apps.webhooks"),
    "apps.payments": ("apps.shipping", "apps.webhooks"),
    "apps.shipping": ("apps.payments", "apps.webhooks"),
    "apps.orders": ("apps.payments", "apps.shipping", "apps.webhooks"),
    "shared": ("apps",),
}


def references(path: Path) -> set[str]:
    """Modules ``path`` imports, and dotted ``apps.`` paths it spells out in strings."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.startswith("apps.")
        ):
            found.add(node.value)
    return found


def offending(package: str, forbidden: tuple[str, ...]) -> list[str]:
    folder = ROOT.joinpath(*package.split("."))
    return sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for path in folder.rglob("*.py")
        for name in references(path)
        if any(name == bad or name.startswith(bad + ".") for bad in forbidden)
    )


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_none_of_the_forbidden_apps(package: str) -> None:
    folder = ROOT.joinpath(*package.split("."))
    assert any(folder.rglob("*.py")), f"{package} has no source to check"
    assert offending(package, FORBIDDEN[package]) == []


def test_the_check_would_notice_an_import(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text(
        "from apps.shipping.services import ShippingService\n"
        "def later():\n    import apps.payments.models\n"
        "PATH = 'apps.shipping.strategies.StandardShipping'\n"
    )
    assert references(source) >= {
        "apps.shipping.services",
        "apps.payments.models",
        "apps.shipping.strategies.StandardShipping",
    }
