"""The Ray Serve application: Scheduler shards, the AlertDesk, and the stateless HTTP Ingress."""
