"""`serve run` with a Serve config file naming `sidecar.app.build:build_app` (Ray users' path)."""

from __future__ import annotations

import sys
from pathlib import Path

import requests

from tests.conftest import ROOT
from tests.rig import ManagedProcess, free_port, ray_child_env, wait_until


def test_serve_run_deploys_the_app_from_a_config_file(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "sidecar.yaml").write_text(
        f"settings:\n  prometheus_url: http://127.0.0.1:{free_port()}\n  query_retries: 0\n"
        f"  data_dir: {tmp_path / 'data'}\n  interval: 5s\n"
    )
    port = free_port()
    config = tmp_path / "serve.yaml"
    config.write_text(
        f"http_options: {{host: 127.0.0.1, port: {port}}}\n"
        "applications:\n"
        "  - name: sidecar\n"
        "    route_prefix: /\n"
        "    import_path: sidecar.app.build:build_app\n"
        f"    args: {{config: ['{rules}']}}\n"
    )
    serve = str(Path(sys.executable).with_name("serve"))
    proc = ManagedProcess(
        [serve, "run", str(config)],
        tmp_path / "serve.log",
        env=ray_child_env(),
        cwd=ROOT,
        stop_timeout=60,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(f"{url}/readyz", timeout=2).ok, 180, "serve run /readyz")
        r = requests.post(f"{url}/anomaly", json={"metrics": [{"cpu_usage": 0.5}]}, timeout=10)
        assert r.status_code == 200 and r.json()["results"][0]["basis"] == "prior"
        assert "sidecar_source_up" in requests.get(f"{url}/metrics", timeout=10).text
    finally:
        proc.stop()
