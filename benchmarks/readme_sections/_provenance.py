"""The line under every generated benchmark section: where, with what and by which command it was measured."""

from __future__ import annotations

from typing import Any


def provenance(data: dict[str, Any]) -> str:
    env = data["environment"]
    versions = ", ".join(f"{name} {version}" for name, version in env["versions"].items() if version)
    return (
        f"<sub>Measured {env['measured_at']} on {env['cpus']} CPUs ({env['machine']}, Python {env['python']}; "
        f"{versions}) by `python benchmarks/{env['command']}`; data: `docs/data/{data['_name']}.json`.</sub>"
    )
