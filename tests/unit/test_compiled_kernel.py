"""The compiled one-channel kernel (setup.py: mypyc) computes what its source does, bit for bit.

An editable install builds the extension next to `baseline_scalar.py`, where it shadows the
source: edit the source without rebuilding (scripts/setup) and these tests say so, instead of
the tests comparing kernels quietly running the old one.
"""

from __future__ import annotations

import os
import shutil

import pytest

from sidecar.detect import baseline_scalar
from sidecar.detect.baseline import BaselineParams, BaselineState, new_state
from sidecar.detect.compiled import kernel_is_compiled, plain_python_kernel
from sidecar.detect.ops import SCALAR
from tests.unit.test_baseline_scalar import hostile_stream, same

COMPILED = kernel_is_compiled()
REBUILD = "the compiled kernel is stale: rebuild it with scripts/setup"


def test_the_kernel_is_compiled_where_a_compiler_is_present() -> None:
    if os.environ.get("SIDECAR_PURE_PYTHON") or shutil.which("cc") is None:
        pytest.skip("pure Python asked for, or no C compiler: the kernel runs uncompiled")
    assert COMPILED, "the kernel is not compiled: run scripts/setup (or pip install -e .)"


@pytest.mark.skipif(not COMPILED, reason="the kernel is not compiled here")
@pytest.mark.parametrize(
    "params",
    [BaselineParams(), BaselineParams(periods=(3600.0, 1.5 * 86400.0), warmup=0)],
    ids=["default", "steps"],
)
def test_the_compiled_kernel_computes_what_its_source_does(params: BaselineParams) -> None:
    source = plain_python_kernel()
    assert source.evaluate_one is not baseline_scalar.evaluate_one  # two modules, not one
    t, x, track = hostile_stream(3)
    compiled_state, source_state = new_state(params, SCALAR), new_state(params, SCALAR)
    for i, (ti, xi, tr) in enumerate(zip(t, x, track, strict=True)):
        ev_c = baseline_scalar.evaluate_one(params, compiled_state, ti, xi)
        ev_s = source.evaluate_one(params, source_state, ti, xi)
        for name in ev_c.__slots__:
            assert same(getattr(ev_c, name), getattr(ev_s, name)), (REBUILD, i, name)
        baseline_scalar.learn_one(params, compiled_state, ev_c, not tr)
        source.learn_one(params, source_state, ev_s, not tr)
        for name in BaselineState.__slots__:
            assert same(getattr(compiled_state, name), getattr(source_state, name)), (
                REBUILD,
                i,
                name,
            )
