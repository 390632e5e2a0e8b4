"""Checkpoints of a shard's learned state: atomic, versioned, checked on load.

A file holds, per rule, the hash of the rule's definition and the pickled state the engine
keeps for it (detector channels, forecasters, watermarks). Layout: a magic line naming the
format version, then the payload's length and SHA-256, then the payload (a pickle of
`{"package", "written_at", "rules": {name: {"hash", "kind", "state"}}}`). A file is written to
a temporary name, flushed to disk and renamed over the old one, so a crash mid-write leaves
the previous checkpoint whole. A newer format, a short or corrupt file is a
`CheckpointError`; a rule whose definition changed is simply not in what `load` returns for it.

The files live in the sidecar's own `data_dir` and are trusted like its SQLite book: they are
pickles, so never point `data_dir` at files others can write.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sidecar import __version__
from sidecar.errors import SidecarError

__all__ = [
    "FORMAT_VERSION",
    "Checkpoint",
    "CheckpointError",
    "RuleState",
    "read_checkpoint",
    "rule_hash",
    "write_checkpoint",
]

FORMAT_VERSION = 2
"""Raised whenever the pickled learned state changes shape (2: the baseline keeps the day
before's usual change, `hday_spread`): a file of another version is a cold start."""
MAGIC = b"SIDECAR-CHECKPOINT v"
_HEADER = struct.Struct(">Q32s")  # payload length, SHA-256 of the payload


class CheckpointError(SidecarError):
    """A checkpoint that cannot be used (corrupt, truncated, or from another format)."""


@dataclass(frozen=True, slots=True)
class RuleState:
    """One rule's saved state: the definition's hash, the engine's kind of state, the object."""

    hash: str
    kind: str
    state: Any


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What a file held: who wrote it, when, and each rule's state."""

    package: str
    written_at: float
    rules: Mapping[str, RuleState]


STATELESS_FIELDS = frozenset({"shard_by"})
"""Rule fields that say how series are fetched, not what is learned: not in the hash."""


def rule_hash(rule: BaseModel) -> str:
    """A stable hash of a rule's definition (a field that shapes the state changed: another
    hash)."""
    dumped = rule.model_dump_json(exclude=set(STATELESS_FIELDS & set(type(rule).model_fields)))
    return hashlib.sha256(dumped.encode()).hexdigest()[:16]


def write_checkpoint(path: Path, rules: Mapping[str, RuleState], now: float) -> int:
    """Write atomically (temporary file, fsync, rename); returns the bytes written."""
    payload = pickle.dumps(
        {
            "package": __version__,
            "written_at": now,
            "rules": {
                name: {"hash": r.hash, "kind": r.kind, "state": r.state}
                for name, r in rules.items()
            },
        },
        protocol=pickle.HIGHEST_PROTOCOL,
    )
    head = MAGIC + str(FORMAT_VERSION).encode() + b"\n"
    blob = head + _HEADER.pack(len(payload), hashlib.sha256(payload).digest()) + payload
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(blob)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a power cut
    finally:
        os.close(dir_fd)
    return len(blob)


def read_checkpoint(path: Path) -> Checkpoint:
    """The checkpoint in `path`; CheckpointError says why it cannot be used."""
    data = path.read_bytes()
    line_end = data.find(b"\n")
    if not data.startswith(MAGIC) or line_end < 0:
        raise CheckpointError(f"{path}: not a sidecar checkpoint")
    try:
        version = int(data[len(MAGIC) : line_end])
    except ValueError:
        raise CheckpointError(f"{path}: not a sidecar checkpoint") from None
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: format v{version}, this sidecar reads v{FORMAT_VERSION} (cold start)"
        )
    start = line_end + 1 + _HEADER.size
    if len(data) < start:
        raise CheckpointError(f"{path}: truncated header")
    length, digest = _HEADER.unpack(data[line_end + 1 : start])
    payload = data[start:]
    if len(payload) != length:
        raise CheckpointError(f"{path}: truncated ({len(payload)} of {length} payload bytes)")
    if hashlib.sha256(payload).digest() != digest:
        raise CheckpointError(f"{path}: checksum mismatch (corrupt)")
    try:
        body = pickle.loads(payload)
        rules = {
            name: RuleState(r["hash"], r["kind"], r["state"]) for name, r in body["rules"].items()
        }
        return Checkpoint(str(body["package"]), float(body["written_at"]), rules)
    except Exception as exc:  # noqa: BLE001 (a payload this code cannot rebuild: cold start)
        raise CheckpointError(f"{path}: unreadable state ({type(exc).__name__}: {exc})") from None
