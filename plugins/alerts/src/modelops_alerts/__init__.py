"""Alert sinks for modelops-core (``log``, ``webhook``, ``slack``, ``prometheus``)."""
