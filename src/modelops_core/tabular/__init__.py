"""Tables from other libraries (pandas, polars, pyarrow, numpy, plain lists and dicts), read
without importing any of them: see :mod:`modelops_core.tabular.frames`."""
