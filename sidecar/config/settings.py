"""Process settings from the environment: `SIDECAR_<KEY>` overrides `settings.<key>`.

The file values and the overrides are validated together by the `Settings` model
(schema.py), so an override gets the same checks and error messages as the file.
"""

from __future__ import annotations

from collections.abc import Mapping

from sidecar.config.schema import Settings

__all__ = ["ENV_PREFIX", "Settings", "env_overrides"]

ENV_PREFIX = "SIDECAR_"


def env_overrides(environ: Mapping[str, str]) -> dict[str, str | None]:
    """Settings keys given in `environ` as `SIDECAR_<KEY>`; an empty value means unset (null)."""
    out: dict[str, str | None] = {}
    for name in Settings.model_fields:
        value = environ.get(ENV_PREFIX + name.upper())
        if value is not None:
            out[name] = value or None
    return out
