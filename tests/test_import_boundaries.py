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
        "apps.outbound",
        "apps.recovery",
    ),
    "apps.idempotency": (
        "apps.orders",
        "apps.payments",
        "apps.shipping",
        "apps.webhooks",
        "apps.outbound",
        "apps.recovery",
    ),
    "apps.payments": ("apps.shipping", "apps.webhooks", "apps.outbound", "apps.recovery"),
    "apps.shipping": ("apps.payments", "apps.webhooks", "apps.outbound", "apps.recovery"),
    "apps.orders": (
        "apps.payments",
        "apps.shipping",
        "apps.webhooks",
        "apps.outbound",
        "apps.recovery",
    ),
    "apps.webhooks": ("apps.outbound", "apps.recovery"),
    # Outbound webhooks read the log: they know no domain app, and no domain app knows them.
    "apps.outbound": (
        "apps.orders",
        "apps.payments",
        "apps.shipping",
        "apps.webhooks",
        "apps.recovery",
    ),
    # Recovery moves stuck orders on through the services: it knows no adapter.
    "apps.recovery": ("apps.webhooks", "apps.outbound"),
    "shared": ("apps",),
}

# The order lifecycle is the orders app's: other apps lock an order through
# OrderService.hold, question it through apps.orders.lifecycle and change it through
# OrderService commands, never with its repository or its state machine.
ORDERS_PRIVATE = ("apps.orders.repositories", "apps.orders.state_machine")
# The webhooks adapter verifies, logs, dedupes, parses and calls the services: it never holds a
# payment's or a shipment's row (the simulator reads payments through apps.payments.queries).
WEBHOOKS_FORBIDDEN = (
    "apps.payments.models",
    "apps.payments.repositories",
    "apps.shipping.models",
    "apps.shipping.repositories",
)


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


def offending(
    package: str, forbidden: tuple[str, ...], *, production_only: bool = False
) -> list[str]:
    """Where ``package`` refers to a ``forbidden`` module; ``production_only``: tests (which
    drive orders to a state by its name, for one) are not held to the rule."""
    folder = ROOT.joinpath(*package.split("."))
    return sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for path in folder.rglob("*.py")
        if not (production_only and "tests" in path.relative_to(folder).parts)
        for name in references(path)
        if any(name == bad or name.startswith(bad + ".") for bad in forbidden)
    )


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_none_of_the_forbidden_apps(package: str) -> None:
    folder = ROOT.joinpath(*package.split("."))
    assert any(folder.rglob("*.py")), f"{package} has no source to check"
    assert offending(package, FORBIDDEN[package]) == []


@pytest.mark.parametrize(
    "package", ["apps.payments", "apps.shipping", "apps.webhooks", "apps.recovery"]
)
def test_only_orders_touches_the_order_repository_and_state_machine(package: str) -> None:
    assert offending(package, ORDERS_PRIVATE, production_only=True) == []


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_app_depends_on_the_operator_console(package: str) -> None:
    """The console sits on top: it reads and commands through the apps, none of them knows it."""
    assert offending(package, ("apps.console",)) == []


def test_webhooks_never_hold_payment_or_shipment_rows() -> None:
    assert offending("apps.webhooks", WEBHOOKS_FORBIDDEN, production_only=True) == []


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
