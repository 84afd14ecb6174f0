"""Which payment provider and carrier clients the service talks to, and whether they are simulated.

A simulated client answers at once from nothing: a refund "succeeds" with a made-up reference
while no money moves, a pickup is "booked" while no carrier comes. Development and demos want
that; production must never do it unnoticed. So ``check --deploy`` refuses simulated clients with
DEBUG off unless ``OMS_ALLOW_SIMULATED_PROVIDERS`` says the deployment is a demo (oms.E004), and
``/readyz`` and the operator console name the clients in use either way.

A client class says what it is with its ``simulated`` attribute, whatever setting names it and
whatever it is called. Only ``simulated = False`` makes a real client: a class that does not say
is taken for a simulated one, so a forgotten declaration stops a deployment, not a refund.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class ClientRole:
    key: str  # as /readyz names it
    label: str  # as the console names it
    setting: str  # the dotted path of the client class
    noun: str  # as the deploy check names it
    consequence: str  # what a simulated one does in production


ROLES = (
    ClientRole(
        "payment",
        "Payment provider",
        "OMS_PAYMENT_PROVIDER",
        "payment provider client",
        "payments and refunds would be recorded as done while no money moves",
    ),
    ClientRole(
        "carrier",
        "Carrier",
        "OMS_CARRIER_CLIENT",
        "carrier client",
        "pickups would be booked and tracking numbers issued while no parcel moves",
    ),
)


@dataclass(frozen=True)
class ConfiguredClient:
    """One external client as configured, and what its class declares."""

    role: ClientRole
    path: str
    declared: bool  # whether the class states ``simulated`` at all
    simulated: bool

    def as_json(self) -> dict[str, Any]:
        return {"client": self.path, "simulated": self.simulated}


def configured_clients() -> list[ConfiguredClient]:
    """The payment provider and carrier clients the settings name (the start-up already proved
    that both import: see ``check_configuration`` of payments and shipping)."""
    clients = []
    for role in ROLES:
        path = getattr(settings, role.setting)
        # Read from the class, never an instance: a real client may connect when built.
        declaration = getattr(import_string(path), "simulated", None)
        clients.append(
            ConfiguredClient(
                role=role,
                path=path,
                declared=isinstance(declaration, bool),
                simulated=declaration is not False,
            )
        )
    return clients
