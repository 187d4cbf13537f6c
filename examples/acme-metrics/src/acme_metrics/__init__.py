"""acme-metrics: an example third-party metric plugin for modelops."""
