"""`AppArgs`: what `build_app` needs, validated; shared by `sidecar run` and `serve run`."""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from sidecar.config.loader import Rules, load_rules

__all__ = ["AppArgs", "shard_of"]


class AppArgs(BaseModel):
    """Rule paths (files or directories); the settings inside them say the rest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    config: tuple[str, ...] = Field(default=("rules",), description="Rule files or directories.")
    ingress_replicas: int = Field(default=1, ge=1, description="Replicas of the HTTP ingress.")

    def load(self) -> Rules:
        """The rules as they are on disk now (raises RuleErrors)."""
        return load_rules([Path(p) for p in self.config])


def shard_of(rule_name: str, shards: int) -> int:
    """The shard that owns a rule: a stable hash (crc32), the same in every process."""
    return zlib.crc32(rule_name.encode()) % shards


def series_shard(labels: Mapping[str, str], by: Sequence[str], shards: int) -> int:
    """The shard that owns one series of a rule split by `by` (its `shard_by` labels): a
    stable hash of those labels' values."""
    values = "\x00".join(labels.get(name, "") for name in by)
    return zlib.crc32(values.encode()) % shards
