"""Input and output schemas of a model, taken from a sample of its data.

A schema is either named columns (a DataFrame, an Arrow table, a mapping of columns) or one
tensor (a numpy array, a list of lists): its dtype and its shape with ``-1`` for the number of
rows. Schemas are stored as JSON with the version (``metadata["model_flavor"]``).

>>> Schema.of({"age": [31, 40], "city": ["a", "b"]}).to_dict()["columns"]
[{'name': 'age', 'dtype': 'int64'}, {'name': 'city', 'dtype': 'str'}]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from modelops_core.errors import MetricInputError
from modelops_core.flavors.contract import FlavorError
from modelops_core.tabular.frames import column_names, is_table, library_of

__all__ = ["ColumnSpec", "Schema", "SchemaMismatchError"]


class SchemaMismatchError(FlavorError, MetricInputError):
    """Data given to a model does not match the schema it was registered with."""


@attrs.frozen
class ColumnSpec:
    """One named column and its dtype (``int64``, ``float64``, ``str``, ``bool`` …)."""

    name: str
    dtype: str


@attrs.frozen
class Schema:
    """Named columns (``kind="columns"``) or one tensor (``kind="tensor"``)."""

    kind: str
    columns: tuple[ColumnSpec, ...] = ()
    dtype: str | None = None
    shape: tuple[int, ...] | None = None

    @classmethod
    def of(cls, sample: Any) -> Schema:
        """The schema of ``sample``: a pandas/polars DataFrame, a pyarrow Table, a mapping
        of columns, a numpy array, a pandas/polars Series, or a list (of rows)."""
        if is_table(sample):
            return cls("columns", tuple(_column_specs(sample)))
        import numpy as np

        from modelops_core.tabular.frames import to_numpy

        array = to_numpy(sample) if library_of(sample) in ("pandas", "polars", "pyarrow") else (
            np.asarray(sample)
        )  # fmt: skip
        shape = (-1, *array.shape[1:]) if array.ndim else ()
        return cls("tensor", dtype=_dtype_name(array.dtype), shape=tuple(int(s) for s in shape))

    @property
    def names(self) -> list[str]:
        """The column names (empty for a tensor)."""
        return [column.name for column in self.columns]

    def to_dict(self) -> dict[str, Any]:
        """The schema as JSON values."""
        if self.kind == "columns":
            return {"kind": "columns", "columns": [attrs.asdict(c) for c in self.columns]}
        return {"kind": "tensor", "dtype": self.dtype, "shape": list(self.shape or ())}

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> Schema:
        """A schema from :meth:`to_dict` output."""
        if value.get("kind") == "columns":
            specs = tuple(ColumnSpec(str(c["name"]), str(c["dtype"])) for c in value["columns"])
            return cls("columns", specs)
        shape = value.get("shape")
        return cls(
            "tensor", dtype=value.get("dtype"), shape=None if shape is None else tuple(shape)
        )

    def check(self, data: Any, where: str) -> None:
        """Refuse ``data`` that lacks a column of this schema (naming the columns it has), or
        a tensor whose row width differs."""
        if self.kind == "columns":
            if not is_table(data):
                return  # an array given to a column model: the model itself decides
            have = column_names(data)
            missing = [name for name in self.names if name not in have]
            if missing:
                raise SchemaMismatchError(
                    f"{where}: the data has no column {', '.join(map(repr, missing[:5]))}"
                    f"{' …' if len(missing) > 5 else ''} ({len(missing)} of {len(self.names)} "
                    f"expected missing); it has: {', '.join(map(repr, have[:20]))}"
                    f"{' …' if len(have) > 20 else ''}. Pass the columns the model was "
                    "registered with.",
                    argument="inputs",
                )
            return
        width = self.shape[1] if self.shape and len(self.shape) > 1 else None
        shape = getattr(data, "shape", None)
        if width is not None and shape is not None and len(shape) > 1 and shape[1] != width:
            raise SchemaMismatchError(
                f"{where}: the data has {shape[1]} columns per row but the model was registered "
                f"with {width} (shape {list(self.shape or ())}). Pass rows of {width} values.",
                argument="inputs",
            )


def _column_specs(table: Any) -> list[ColumnSpec]:
    library = library_of(table)
    if library == "pandas":
        return [ColumnSpec(str(n), _pandas_dtype(t)) for n, t in table.dtypes.items()]
    if library == "polars":
        return [ColumnSpec(str(n), str(t).lower()) for n, t in table.schema.items()]
    if library == "pyarrow":
        return [ColumnSpec(str(f.name), str(f.type)) for f in table.schema]
    import numpy as np

    return [ColumnSpec(str(n), _dtype_name(np.asarray(v).dtype)) for n, v in table.items()]


def _pandas_dtype(dtype: Any) -> str:
    kind = getattr(dtype, "kind", "O")
    return "str" if kind in "OUS" else str(dtype)


def _dtype_name(dtype: Any) -> str:
    return "str" if dtype.kind in "OUS" else str(dtype)
