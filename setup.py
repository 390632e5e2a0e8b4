"""Build hook: compile the per-row baseline kernel with mypyc; all metadata is in pyproject.toml.

`sidecar score` spends most of each row in `sidecar/detect/baseline_scalar.py`. Compiled, the
same source ran about 1.6x as many rows per CPU-second where first measured (about 1x on a
later machine: benchmarks/anomaly_speed.py prints the ratio). The extension is optional: without
a C compiler and Python's headers (or with SIDECAR_PURE_PYTHON=1) the build skips it and the
module runs as plain Python, with the same numbers.
"""

from __future__ import annotations

import os

from setuptools import Extension, setup

COMPILED = ["sidecar/detect/baseline_scalar.py"]
"""Modules compiled by mypyc. scripts/setup rebuilds when one of them (or baseline.py, whose
names they import) changes, and tests/unit/test_compiled_kernel.py checks that the compiled
module still computes what its source does."""


def _extensions() -> list[Extension]:
    if os.environ.get("SIDECAR_PURE_PYTHON"):
        return []
    try:  # mypy is a build requirement; without build isolation it may be missing
        from mypy.errors import CompileError
        from mypyc.build import mypycify
    except ImportError:
        print("setup.py: mypyc not found; the kernel stays plain Python")
        return []
    try:
        extensions: list[Extension] = mypycify(COMPILED, opt_level="3")
    except (CompileError, SystemExit) as exc:  # mypyc exits on a type error a new mypy may find
        print(f"setup.py: mypyc failed ({exc}); the kernel stays plain Python")
        return []
    for ext in extensions:
        ext.optional = True  # a failed compile leaves the pure-Python module in place
    return extensions


setup(ext_modules=_extensions())
