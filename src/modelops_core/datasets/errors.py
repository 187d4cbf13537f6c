"""The errors of datasets: reading, shapes and conversions, providers."""

from __future__ import annotations

from modelops_core.datasets.jsonl.reader import JsonlError


class DatasetError(JsonlError):
    """A dataset cannot be read, converted, validated or written."""


class DatasetReadError(DatasetError):
    """A dataset file cannot be read; the message names the file, line and column.

    :param path: the file.
    :param line: the 1-based line (0 when the whole file is at fault).
    :param column: the 1-based column of invalid JSON (0 when not known).
    """

    def __init__(self, message: str, *, path: str = "", line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.column = column


class DatasetEncodingError(DatasetReadError):
    """A dataset file is not UTF-8; the message names the line and byte offset."""


class DatasetFormatError(DatasetError):
    """A record has a shape no format knows, or a conversion is not well defined."""


class UnknownProviderError(DatasetError):
    """A provider or export format name that is not known; the message lists the known ones."""
