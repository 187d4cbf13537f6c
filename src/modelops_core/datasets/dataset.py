"""Dataset: training examples in one canonical format, read from any supported shape, written
for any provider, validated, fingerprinted, split and summarised.

>>> ds = Dataset.from_records([{"prompt": "2+2?", "completion": "4"}])
>>> ds.format, len(ds), ds.pairs()
('prompt_completion', 1, [('2+2?', '4')])
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelops_core.datasets.errors import (
    DatasetEncodingError,
    DatasetError,
    DatasetFormatError,
    DatasetReadError,
    UnknownProviderError,
)
from modelops_core.datasets.formats import FORMATS, Note, Record, convert_record, pair

if TYPE_CHECKING:
    from modelops_core.datasets.jsonl.reader import LineProblem, ProgressCallback
    from modelops_core.datasets.read import Loaded
    from modelops_core.datasets.stats import DatasetStats
    from modelops_core.datasets.validate import ValidationReport
    from modelops_core.finetune.provider_contract import ExportTarget

__all__ = [
    "FORMATS",
    "Dataset",
    "DatasetEncodingError",
    "DatasetError",
    "DatasetFormatError",
    "DatasetReadError",
    "UnknownProviderError",
]


class Dataset:
    """Canonical records of one format (``prompt_completion``, ``chat`` or ``preference``).

    Build one with a ``from_*`` reader; ``records`` are plain dicts (see
    :mod:`modelops_core.datasets.formats` for their shapes) and ``lines`` their source lines.
    """

    def __init__(
        self,
        records: Iterable[Record],
        format: str,
        *,
        lines: Sequence[int] | None = None,
        rejected: Sequence[LineProblem] = (),
        source: str = "",
        notes: Sequence[tuple[int, Note]] = (),
    ) -> None:
        if format not in FORMATS:
            raise DatasetFormatError(
                f"Unknown dataset format {format!r}; choose one of {', '.join(FORMATS)}."
            )
        self.records: tuple[Record, ...] = tuple(records)
        self.format = format
        self.lines: tuple[int, ...] = (
            tuple(lines) if lines is not None else tuple(range(1, len(self.records) + 1))
        )
        self.rejected: tuple[LineProblem, ...] = tuple(rejected)
        self.source = source
        #: ``(line, note)``: what reading dropped (message keys no message takes), reported by
        #: :meth:`validate`.
        self.notes: tuple[tuple[int, Note], ...] = tuple(notes)

    # --- readers ---------------------------------------------------------------------------

    @classmethod
    def _from_loaded(cls, loaded: Loaded, source: str) -> Dataset:
        return cls(
            loaded.records,
            loaded.format,
            lines=loaded.lines,
            rejected=loaded.rejected,
            source=source,
            notes=loaded.notes,
        )

    @classmethod
    def from_jsonl(
        cls,
        path: str | os.PathLike[str],
        *,
        skip_invalid: bool = False,
        progress: ProgressCallback | None = None,
    ) -> Dataset:
        """A JSONL file in any supported shape (OpenAI chat or DPO, Vertex, Bedrock,
        prompt/completion), detected per line.

        :param skip_invalid: set invalid lines aside in ``rejected`` (reported by
            :meth:`validate`) instead of raising :class:`DatasetReadError` on the first.
        :param progress: called with the bytes read, for progress bars.
        """
        from modelops_core.datasets.read import read_jsonl

        loaded = read_jsonl(path, skip_invalid=skip_invalid, progress=progress)
        return cls._from_loaded(loaded, str(path))

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> Dataset:
        """Records given in code, in any supported shape."""
        from modelops_core.datasets.read import read_records

        return cls._from_loaded(read_records(records), "records")

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> Dataset:
        """A JSON file holding a list of records (or ``{"data": [...]}``)."""
        from modelops_core.datasets.read import read_json

        return cls._from_loaded(read_json(path), str(path))

    @classmethod
    def from_csv(
        cls, path: str | os.PathLike[str], mapping: Mapping[str, str] | None = None
    ) -> Dataset:
        """A CSV file; ``mapping`` names the column of ``prompt``, ``completion`` (and
        optionally ``system``), e.g. ``{"prompt": "question", "completion": "answer"}``."""
        from modelops_core.datasets.read import read_csv

        return cls._from_loaded(read_csv(path, mapping), str(path))

    @classmethod
    def from_markdown(cls, path: str | os.PathLike[str]) -> Dataset:
        """A markdown file: ``## user`` / ``## assistant`` sections, ``---`` between
        conversations, or ``Q:`` / ``A:`` pairs (see docs/datasets.md)."""
        from modelops_core.datasets.read import read_markdown

        return cls._from_loaded(read_markdown(path), str(path))

    @classmethod
    def from_pandas(cls, frame: Any, mapping: Mapping[str, str] | None = None) -> Dataset:
        """A pandas DataFrame whose rows are records (``mapping``: field -> column)."""
        from modelops_core.datasets.tables import read_table

        return cls._from_loaded(read_table(frame, "DataFrame", mapping), "DataFrame")

    @classmethod
    def from_polars(cls, frame: Any, mapping: Mapping[str, str] | None = None) -> Dataset:
        """A polars DataFrame whose rows are records (``mapping``: field -> column)."""
        from modelops_core.datasets.tables import read_table

        return cls._from_loaded(read_table(frame, "polars.DataFrame", mapping), "polars")

    @classmethod
    def from_arrow(cls, table: Any, mapping: Mapping[str, str] | None = None) -> Dataset:
        """A pyarrow Table whose rows are records (``mapping``: field -> column)."""
        from modelops_core.datasets.tables import read_table

        return cls._from_loaded(read_table(table, "pyarrow.Table", mapping), "arrow")

    @classmethod
    def from_parquet(
        cls, path: str | os.PathLike[str], mapping: Mapping[str, str] | None = None
    ) -> Dataset:
        """A Parquet file whose rows are records (``mapping``: field -> column)."""
        from modelops_core.datasets.tables import read_parquet

        return cls._from_loaded(read_parquet(path, mapping), str(path))

    @classmethod
    def from_hf(cls, dataset: Any, mapping: Mapping[str, str] | None = None) -> Dataset:
        """A Hugging Face ``datasets.Dataset``, or the folder one was saved to
        (``save_to_disk``)."""
        from modelops_core.datasets.tables import read_hf

        source = os.fspath(dataset) if isinstance(dataset, str | os.PathLike) else "hf"
        return cls._from_loaded(read_hf(dataset, mapping), source)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Dataset:
        """A file by its suffix: ``.jsonl``, ``.json``, ``.md``, ``.csv``, ``.parquet``."""
        suffix = Path(path).suffix.lower()
        if suffix == ".json":
            return cls.from_json(path)
        if suffix in (".md", ".markdown"):
            return cls.from_markdown(path)
        if suffix in (".csv", ".parquet", ".pq"):
            from modelops_core.datasets.tables import read_file

            return cls._from_loaded(read_file(path), str(path))
        return cls.from_jsonl(path)

    # --- the container ---------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)

    def __repr__(self) -> str:
        source = f", source={self.source!r}" if self.source else ""
        return f"Dataset(format={self.format!r}, examples={len(self)}{source})"

    def _where(self, index: int) -> str:
        return f"{self.source or 'record'}:{self.lines[index]}"

    def _derived(self, records: Iterable[Record], format: str, lines: Sequence[int]) -> Dataset:
        return Dataset(records, format, lines=lines, source=self.source)

    # --- formats ---------------------------------------------------------------------------

    def pairs(self) -> list[tuple[str, str]]:
        """``(input text, target text)`` per example: prompt and completion; for chat, the
        turns before the last assistant turn rendered (a lone user turn: exactly its text)
        and that turn's content; for preference, the input and the preferred answer."""
        return [
            pair(record, self.format, self._where(index))
            for index, record in enumerate(self.records)
        ]

    def convert(self, to: str) -> Dataset:
        """This dataset in another format; :class:`DatasetFormatError` where that is not well
        defined (anything to preference)."""
        records = [
            convert_record(record, self.format, to, self._where(index))
            for index, record in enumerate(self.records)
        ]
        return self._derived(records, to, self.lines)

    def export(self, path: str | os.PathLike[str], provider: str | ExportTarget = "openai") -> Path:
        """Write the provider's training JSONL atomically; returns the path.

        :param provider: an export shape an installed provider declares (``openai``,
            ``openai-dpo``, ``vertex``, ``vertex-preference``, ``bedrock``,
            ``bedrock-conversation``, ``local`` …), or an
            :class:`~modelops_core.finetune.provider_contract.ExportTarget` resolved against a
                runtime.
        """
        from modelops_core.datasets.exports import check_export_name, export_record

        target = check_export_name(provider)
        rows = (
            export_record(record, self.format, target, self._where(index))
            for index, record in enumerate(self.records)
        )
        return _write_jsonl(path, rows)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the canonical records as JSONL, atomically (temp file + ``os.replace``)."""
        return _write_jsonl(path, self.records)

    def to_jsonl(self, path: str | os.PathLike[str]) -> Path:
        """Same as :meth:`save`."""
        return self.save(path)

    def to_pandas(self) -> Any:
        """The canonical records as a pandas DataFrame (one column per field)."""
        from modelops_core.tabular.frames import to_pandas

        return to_pandas(list(self.records))

    def to_parquet(self, path: str | os.PathLike[str]) -> Path:
        """Write the canonical records to a Parquet file, atomically; returns the path."""
        from modelops_core.datasets.tables import write_parquet

        return write_parquet(self.records, path)

    def to_hf(self) -> Any:
        """The canonical records as a Hugging Face ``datasets.Dataset``."""
        from modelops_core.datasets.tables import _need

        return _need("datasets", "hf").Dataset.from_list([dict(r) for r in self.records])

    # --- checks and summaries --------------------------------------------------------------

    def validate(
        self,
        provider: str | ExportTarget | None = None,
        model: str | None = None,
        tokenizer: Any = None,
    ) -> ValidationReport:
        """Every problem at once: lines set aside when reading, empty contents, missing
        assistant turns, duplicates, message keys no message takes (errors for a provider
        that refuses them, e.g. openai; else warnings), and with ``provider`` its minimum
        examples, token limit (for ``model``) and format.

        :param tokenizer: what counts tokens: None or ``"auto"`` (the tokenizer the provider
            declares for ``model`` when installed, else the estimate), ``"estimate"``,
            ``"tiktoken"``, ``"tiktoken:<encoding>"``, ``"module:callable"`` or a counter; see
            :func:`modelops_core.datasets.tokens.resolve_counter`. The report's ``tokenizer``
            says which counted.
        """
        from modelops_core.datasets.validate import Checker, Problem

        checker = Checker(self.format, provider, model, tokenizer)
        checker.check_format(self.format)
        for problem in self.rejected:
            checker.add_problem(Problem(problem.line, problem.reason, problem.field, "invalid"))
        notes: dict[int, list[Note]] = {}
        for line, note in self.notes:
            notes.setdefault(line, []).append(note)
        for line, record in zip(self.lines, self.records, strict=True):
            checker.add(line, record, self.format, notes=notes.get(line, ()))
        return checker.report(self.source)

    def fingerprint(self) -> str:
        """``sha256:<hex>`` of the canonical records in order; key order and JSON whitespace
        do not matter, nor the file format they were read from."""
        import hashlib

        from modelops_core.datasets.validate import canonical_bytes

        digest = hashlib.sha256()
        for record in self.records:
            digest.update(canonical_bytes(record))
            digest.update(b"\n")
        return f"sha256:{digest.hexdigest()}"

    def split(
        self, test_size: float | int = 0.2, seed: int = 0, stratify: bool = False
    ) -> tuple[Dataset, Dataset]:
        """``(train, test)``, shuffled with ``seed``.

        :param test_size: a fraction in (0, 1) or a number of examples.
        :param stratify: keep each target's share (completion, last assistant turn or
            preferred answer) equal in both parts.
        """
        count = len(self)
        if isinstance(test_size, float) and not 0 < test_size < 1:
            raise DatasetError(f"test_size={test_size} must be between 0 and 1 (exclusive).")
        if isinstance(test_size, int) and not 0 < test_size < count:
            raise DatasetError(f"test_size={test_size} must be between 1 and {count - 1}.")
        fraction = test_size if isinstance(test_size, float) else test_size / count
        import random  # here: most readers never split, and the import costs a millisecond

        rng = random.Random(seed)
        if stratify:
            groups: dict[str, list[int]] = {}
            for index, (_, target) in enumerate(self.pairs()):
                groups.setdefault(target, []).append(index)
            test: list[int] = []
            for members in groups.values():
                rng.shuffle(members)
                test += members[: round(len(members) * fraction)]
        else:
            order = list(range(count))
            rng.shuffle(order)
            size = test_size if isinstance(test_size, int) else max(1, round(count * fraction))
            test = order[:size]
        chosen = set(test)
        train_idx = [i for i in range(count) if i not in chosen]
        test_idx = sorted(chosen)
        return self._subset(train_idx), self._subset(test_idx)

    def _subset(self, indexes: Sequence[int]) -> Dataset:
        return self._derived(
            [self.records[i] for i in indexes], self.format, [self.lines[i] for i in indexes]
        )

    def stats(self, tokenizer: Any = None) -> DatasetStats:
        """Counts, character/token/turn distributions (min, mean, p50, p95, max), roles."""
        from modelops_core.datasets.stats import compute_stats

        return compute_stats(self.records, self.format, tokenizer)


def _write_jsonl(path: str | os.PathLike[str], rows: Iterable[Any]) -> Path:
    import msgspec

    from modelops_core.datasets.write import atomic_writer

    encoder = msgspec.json.Encoder()
    rows = iter(rows)
    with atomic_writer(path) as handle:
        # a thousand rows per encode_lines call: one C call per about a megabyte
        while chunk := list(itertools.islice(rows, 1024)):
            handle.write(encoder.encode_lines(chunk))
    return Path(path)
