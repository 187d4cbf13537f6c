"""The plugin machinery: hook specs, markers, kinds, component tables, discovery, entry-point
scan, hook docs."""
