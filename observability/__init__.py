"""Redis at work, made visible: ``GET /metrics`` (Prometheus) and the admin's Redis
dashboard (``/admin/redis/``). docs/observability.md."""
