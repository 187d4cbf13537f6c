"""The errors of datasets: reading, shapes and conversions, providers.

A JSON Lines file that cannot be read raises :class:`DatasetReadError` (or its
:class:`DatasetEncodingError`), whoever reads it: see :mod:`modelops_core.datasets.jsonl.reader`
for how the file, line and column are named. :class:`JsonlError` is the name that error had
when ``modelops eval run`` read its files apart; it is kept as the root of this tree, so
``except JsonlError`` still catches every read error.
"""

from __future__ import annotations

from modelops_core.errors import ModelOpsError


class JsonlError(ModelOpsError, ValueError):
    """The root of the dataset errors (the name of the JSON Lines read error of earlier
    releases: what is raised now is :class:`DatasetReadError`, a subclass)."""


class DatasetError(JsonlError):
    """A dataset cannot be read, converted, validated or written."""


class DatasetReadError(DatasetError):
    """A file cannot be read; the message names the file, line and column.

    The one read error of JSON Lines (datasets, ``modelops dataset …``, ``modelops eval run``).
    The message is ``<file>:<line>: <reason>``; the reason of invalid JSON says ``at column
    <n>``.

    :param path: the file.
    :param line: the 1-based line (0 when the whole file is at fault).
    :param column: the 1-based character column within the line (0 when not known or when the
        whole line is at fault).
    """

    def __init__(self, message: str, *, path: str = "", line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.column = column


class DatasetEncodingError(DatasetReadError):
    """A file is not UTF-8; the message names the line and the column of the first bad byte,
    and how to re-encode the file."""


class DatasetFormatError(DatasetError):
    """A record has a shape no format knows, or a conversion is not well defined."""


class UnknownProviderError(DatasetError):
    """A provider or export format name that is not known; the message lists the known ones."""


class TokenizerError(DatasetError):
    """A tokenizer cannot be used: not installed, its vocabulary cannot be loaded, or a
    ``--tokenizer`` value that names nothing; the message says what to install, set or pass."""
