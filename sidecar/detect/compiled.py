"""Whether the one-channel kernel runs compiled (setup.py builds it with mypyc), and its
source as plain Python beside it: the test that holds the two equal and the speed
benchmark both compare them."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from sidecar.detect import baseline_scalar

__all__ = ["kernel_is_compiled", "plain_python_kernel"]


def kernel_is_compiled() -> bool:
    """True when `import` found the compiled extension rather than `baseline_scalar.py`."""
    return not baseline_scalar.__file__.endswith(".py")


def plain_python_kernel() -> ModuleType:
    """`baseline_scalar.py` run as plain Python: a separate module, whatever `import` found."""
    path = Path(baseline_scalar.__file__).with_name("baseline_scalar.py")
    spec = importlib.util.spec_from_file_location("baseline_scalar_source", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
