"""Monitoring: mergeable column profiles, drift between a reference and a current window, the
HTML drift report. Each module has one job: ``sketches`` (quantiles, distinct counts, frequent
items), ``profile`` (column and data profiles), ``reader`` (data by chunks), ``methods`` (the
statistical tests), ``drift`` (choosing and running them), ``report`` (HTML), ``errors``.
"""
