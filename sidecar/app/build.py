"""`serve run sidecar.app.build:build_app config=rules`: the Serve application for Ray users.

The builder itself lives next to the deployments it binds (deployments.py); this module is
the documented import path, so a Serve config file or `serve run` does not depend on how
the app package is laid out inside.
"""

from sidecar.app.deployments import build_app

__all__ = ["build_app"]
