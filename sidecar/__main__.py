"""`python -m sidecar` is the `sidecar` console command."""

from sidecar.cli import main

raise SystemExit(main())
