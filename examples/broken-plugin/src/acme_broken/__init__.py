"""acme-broken: a plugin that fails at import, to show how modelops reports it."""
