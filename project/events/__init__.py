"""Events: a versioned envelope published after commit over pub/sub and a Stream, the
handler registry, and the long-running listener and stream consumer (``listen_events``).

Apps publish with ``publish_on_commit`` and register handlers with ``@handler(type)``.
"""
