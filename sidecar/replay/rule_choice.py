"""Which rule of a rule file a replay uses: the one named, or the file's only one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from sidecar.errors import ConfigError

__all__ = ["pick_rule"]


class _Named(Protocol):
    @property
    def name(self) -> str: ...


R = TypeVar("R", bound=_Named)


def pick_rule(rules: Sequence[R], name: str | None, rules_file: str, kind: str) -> R:
    """The `kind` rule named `name` among `rules` (or the only one); ConfigError otherwise."""
    if name is None:
        if len(rules) != 1:
            names = ", ".join(r.name for r in rules) or "none"
            raise ConfigError(f"{rules_file}: name the {kind} rule with --rule (found: {names})")
        return rules[0]
    for rule in rules:
        if rule.name == name:
            return rule
    raise ConfigError(f"{rules_file}: no {kind} rule named {name!r}")
