"""What the core needs of the tables users bring: column names, one column, rows, a pandas
frame. pandas, polars and pyarrow are optional: an object is recognised by the module its type
comes from, so nothing is imported until a table of that library is actually given.

>>> column_names({"x": [1, 2], "label": [0, 1]})
['x', 'label']
>>> column({"x": [1, 2], "label": [0, 1]}, "label", "data")
[0, 1]
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from modelops_core.errors import MetricInputError

__all__ = [
    "MissingColumnError",
    "column",
    "column_names",
    "drop_columns",
    "is_table",
    "library_of",
    "rows",
    "to_numpy",
    "to_pandas",
]


class MissingColumnError(MetricInputError, KeyError):
    """A column named by the caller is not in the table; the message lists the ones it has."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def library_of(value: Any) -> str:
    """``pandas``, ``polars``, ``pyarrow``, ``numpy`` or ``""``: the library of ``value``'s type."""
    return type(value).__module__.split(".", 1)[0]


def is_table(value: Any) -> bool:
    """A DataFrame (pandas, polars), a pyarrow Table/RecordBatch or a mapping of columns."""
    kind = type(value).__name__
    library = library_of(value)
    if library in ("pandas", "polars") and kind == "DataFrame":
        return True
    if library == "pyarrow" and kind in ("Table", "RecordBatch"):
        return True
    return isinstance(value, Mapping)


def column_names(table: Any) -> list[str]:
    """The column names of ``table`` (any :func:`is_table` value)."""
    if isinstance(table, Mapping):
        return [str(name) for name in table]
    if library_of(table) == "pyarrow":
        return [str(name) for name in table.column_names]
    return [str(name) for name in table.columns]


def _missing(table: Any, name: str, where: str) -> MissingColumnError:
    have = column_names(table)
    return MissingColumnError(
        f"{where} has no column {name!r}; it has: {', '.join(map(repr, have)) or 'no columns'}. "
        "Name one of those, or add the column.",
        argument=name,
    )


def column(table: Any, name: str, where: str) -> Any:
    """The column ``name`` of ``table`` as the table's own column type (a pandas or polars
    Series, a pyarrow ChunkedArray, the mapping's value); a missing one is named with the
    columns the table has."""
    if name not in column_names(table):
        raise _missing(table, name, where)
    if library_of(table) == "pyarrow":
        return table.column(name)
    return table[name]


def drop_columns(table: Any, names: Sequence[str], where: str) -> Any:
    """``table`` without the columns ``names`` (each must exist), in the table's own type."""
    for name in names:
        if name not in column_names(table):
            raise _missing(table, name, where)
    if isinstance(table, Mapping):
        return {key: value for key, value in table.items() if key not in names}
    library = library_of(table)
    if library == "pandas":
        return table.drop(columns=list(names))
    if library == "polars":
        return table.drop(list(names))
    return table.drop_columns(list(names))  # pyarrow


def to_numpy(values: Any) -> Any:
    """A column or table as a numpy array (pyarrow and polars through ``to_numpy``)."""
    import numpy as np

    library = library_of(values)
    if library == "pyarrow" and hasattr(values, "to_numpy"):
        if type(values).__name__ in ("Table", "RecordBatch"):
            return np.column_stack([c.to_numpy() for c in values.columns])
        try:
            return values.to_numpy(zero_copy_only=False)
        except TypeError:  # ChunkedArray.to_numpy takes no zero_copy_only
            return values.to_numpy()
    if library in ("pandas", "polars"):
        return values.to_numpy()
    return np.asarray(values)


def to_pandas(table: Any) -> Any:
    """``table`` as a pandas DataFrame (pandas must be installed: ``pip install pandas``)."""
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError(
            "pandas is needed for this; install it with `pip install 'modelops-core[pandas]'`."
        ) from exc
    library = library_of(table)
    if library == "pandas":
        return table
    if library in ("polars", "pyarrow"):
        return table.to_pandas()
    return pd.DataFrame(table)


def rows(table: Any) -> Iterator[dict[str, Any]]:
    """The rows of ``table`` as dicts of plain Python values (lists stay lists)."""
    library = library_of(table)
    if library == "pyarrow":
        yield from table.to_pylist()
        return
    if library == "polars":
        yield from table.iter_rows(named=True)
        return
    if library == "pandas":
        names = [str(name) for name in table.columns]
        for values in table.itertuples(index=False, name=None):
            yield {name: _plain(value) for name, value in zip(names, values, strict=True)}
        return
    if isinstance(table, Mapping):
        names = list(table)
        for values in zip(*(table[name] for name in names), strict=True):
            yield dict(zip(names, values, strict=True))
        return
    yield from table


def _plain(value: Any) -> Any:
    """numpy scalars and arrays (pandas cells) as Python values."""
    if hasattr(value, "tolist") and hasattr(value, "dtype"):
        return value.tolist()
    return value
