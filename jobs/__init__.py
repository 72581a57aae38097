"""Background jobs: Django's Tasks API run by RQ, enqueued durably after commit, with
periodic jobs scheduled once per period by the workers (docs/tasks.md)."""
