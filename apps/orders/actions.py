"""The commands a caller may issue on an order now: its ``allowed_actions``, and who may issue
each command at all.

``allowed_transitions`` is the state machine's truth: from PENDING an order may become PAID,
CANCELLED or FAILED. It is not what its customer may do: the provider's answer makes it PAID or
FAILED, and only staff start processing, ship or give money back. ``allowed_actions`` says what
THIS caller may ask now, so a client offers exactly the buttons the API would accept.

One rule per command decides both. Who: the command's endpoint lets a caller in by
:func:`may_issue`, and ``allowed_actions`` asks the same; when: each rule asks the predicate the
command's service enforces (the state machine through ``apps.orders.lifecycle``, the payment's
own rules), applied to the order and the sections already in hand, so listing the actions costs
no query.

Orders never imports payments or shipping: those apps register the rules of their commands
(``pay``, ``refund``; ``ship``, ``deliver``) from their ``AppConfig.ready``, as they register
their sections.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from apps.orders import lifecycle
from apps.orders.commands import Actor

Section = dict[str, Any]


@dataclass(frozen=True)
class OrderAtHand:
    """What a rule may look at: the order's state and its sections (None where there is none)."""

    state: str
    sections: Mapping[str, Section | None]

    def section(self, name: str) -> Section | None:
        return self.sections.get(name)


@dataclass(frozen=True)
class ActionRule:
    """``name`` is the command's path segment (``POST /api/v1/orders/{id}/<name>/``)."""

    name: str
    staff_only: bool
    # Whether the command would change something now, from the order in hand.
    possible: Callable[[OrderAtHand], bool]


_rules: dict[str, ActionRule] = {}


def register(rule: ActionRule) -> None:
    existing = _rules.get(rule.name)
    if existing is not None and existing is not rule:
        raise ValueError(f"a rule for the action {rule.name!r} is already registered")
    _rules[rule.name] = rule


def registered_actions() -> list[str]:
    return sorted(_rules)


def may_issue(action: str, *, is_staff: bool) -> bool:
    """Whether a caller (staff or not) may issue ``action`` at all, on an order they can see."""
    return is_staff or not _rules[action].staff_only


def allowed_actions(order: OrderAtHand, viewer: Actor | None) -> list[str]:
    """The commands ``viewer`` may issue on ``order`` now, sorted; none without a viewer."""
    if viewer is None:
        return []
    return sorted(
        name
        for name, rule in _rules.items()
        if may_issue(name, is_staff=viewer.is_staff) and rule.possible(order)
    )


register(
    ActionRule(
        name="cancel",
        staff_only=False,
        possible=lambda order: lifecycle.can_be_cancelled_in(order.state),
    )
)
register(
    ActionRule(
        name="process",
        staff_only=True,
        possible=lambda order: lifecycle.can_start_processing_in(order.state),
    )
)
