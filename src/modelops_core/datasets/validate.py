"""Validation: every problem of a dataset at once, with its line, reason and field.

Provider rules are declared by the provider plugins (:class:`~modelops_core.plugins.protocols.
DatasetLimits` in their :class:`~modelops_core.plugins.protocols.ProviderProfile`) and found through
:class:`~modelops_core.finetune.provider_contract.ProviderCatalogue`. The checker is shared by
:meth:`Dataset.validate` (records in memory) and :func:`validate_file` in
:mod:`modelops_core.datasets.stream` (files larger than memory).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from modelops_core.datasets.duplicates import DuplicateLog
from modelops_core.datasets.errors import DatasetFormatError
from modelops_core.datasets.formats import Note, content_images, content_text, record_messages
from modelops_core.datasets.tokens import Counting, count_tokens, resolve_counter
from modelops_core.finetune.provider_contract import ExportTarget, ProviderCatalogue
from modelops_core.plugins.protocols import DatasetLimits

if TYPE_CHECKING:
    from modelops_core.datasets.jsonl.reader import Sizes
    from modelops_core.runtime import Runtime

#: the codes of message keys a provider with ``strict_message_keys`` refuses; warnings for
#: the others (the names of OpenAI's cookbook checks where it has one).
KEY_CODES = frozenset({"message_unrecognized_key", "weight_not_on_assistant"})

#: tokens per message besides the tokens of its values (OpenAI's count for chat fine-tuning,
#: ``num_tokens_from_messages`` of its cookbook: role and content are counted as text).
TOKENS_PER_MESSAGE = 3
#: tokens added for a message's ``name``, besides the name's own.
TOKENS_PER_NAME = 1
#: tokens per example for the reply priming (once per example).
TOKENS_PER_REPLY = 3


#: the dataset rules of a provider, declared in its profile (the name of earlier releases).
ProviderLimits = DatasetLimits


def provider_limits(provider: str, runtime: Runtime | None = None) -> DatasetLimits:
    """The rules of an export name, as the provider plugin declaring it says;
    :class:`UnknownProviderError` lists the known names."""
    return ProviderCatalogue.of(runtime).target(provider).limits


@attrs.frozen
class Problem:
    """One problem: the line (0 for the whole dataset), a short reason, the field at fault."""

    line: int
    reason: str
    field: str = ""
    code: str = ""

    def to_text(self) -> str:
        where = f"line {self.line}" if self.line else "dataset"
        field = f" [{self.field}]" if self.field else ""
        return f"{where}{field}: {self.reason}"


@attrs.frozen
class ValidationReport:
    """The result of a validation: ``ok`` when there is no problem; all problems, in order;
    ``warnings`` (in order too) do not make it fail.

    :param tokenizer: what counted the tokens against the provider's limit (``"tiktoken
        o200k_base"``, or the estimate and why it stood in); empty when no limit applied.
    """

    examples: int
    problems: tuple[Problem, ...] = ()
    provider: str | None = None
    model: str | None = None
    source: str = ""
    fingerprint: str | None = None
    warnings: tuple[Problem, ...] = ()
    tokenizer: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_text(self, limit: int = 100) -> str:
        """A readable summary: one line per problem (the first ``limit``), then a count, the
        warnings, and the token counter."""
        target = f" for {self.provider}" + (f" ({self.model})" if self.model else "")
        head = f"{self.source or 'dataset'}: {self.examples} examples"
        if self.ok:
            lines = [f"{head}, valid{target if self.provider else ''}."]
        else:
            lines = [f"{head}, {len(self.problems)} problem(s){target if self.provider else ''}:"]
            lines += [f"  {problem.to_text()}" for problem in self.problems[:limit]]
            if len(self.problems) > limit:
                lines.append(f"  … and {len(self.problems) - limit} more")
        if self.warnings:
            lines.append(f"{len(self.warnings)} warning(s):")
            lines += [f"  {warning.to_text()}" for warning in self.warnings[:limit]]
            if len(self.warnings) > limit:
                lines.append(f"  … and {len(self.warnings) - limit} more")
        if self.tokenizer:
            lines.append(f"tokens counted with {self.tokenizer}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "examples": self.examples,
            "provider": self.provider,
            "model": self.model,
            "problems": [attrs.asdict(problem) for problem in self.problems],
            "warnings": [attrs.asdict(warning) for warning in self.warnings],
            "tokenizer": self.tokenizer,
        }


_BLANK = re.compile(r"\s*")


def _blank(text: Any) -> bool:
    return isinstance(text, str) and _BLANK.fullmatch(text) is not None


def message_problems(messages: Any, line: int, field: str) -> list[Problem]:
    """Empty contents of a list of canonical messages (a turn with tool calls may be empty;
    a content with an image is not empty), and images outside user and system turns."""
    problems = []
    for index, message in enumerate(messages):
        content = message.get("content")
        images = content_images(content)
        calls = "tool_calls" in message or "function_call" in message
        if not images and _blank(content_text(content)) and not calls:
            problems.append(
                Problem(line, "empty content", f"{field}[{index}].content", "empty_content")
            )
        if "weight" in message and message["role"] != "assistant":
            problems.append(
                Problem(
                    line,
                    f"weight on a {message['role']} message: only assistant turns are trained "
                    "on, so weight belongs on assistant messages only; remove it",
                    f"{field}[{index}].weight",
                    "weight_not_on_assistant",
                )
            )
        if images and message["role"] not in ("user", "system"):
            problems.append(
                Problem(
                    line,
                    f"{images} image(s) in a {message['role']} message: images are inputs, "
                    "taken in user (or system) messages only; move them to a user message",
                    f"{field}[{index}].content",
                    "image_not_input",
                )
            )
    return problems


def record_problems(record: Mapping[str, Any], format: str, line: int) -> list[Problem]:
    """The problems of one canonical record (no provider rules)."""
    if format == "prompt_completion":
        return [
            Problem(line, "empty content", key, "empty_content")
            for key in ("prompt", "completion")
            if _blank(record[key])
        ]
    if format == "chat":
        messages = record["messages"]
        if not messages:
            return [Problem(line, "no messages", "messages", "no_messages")]
        problems = message_problems(messages, line, "messages")
        if not any(message["role"] == "assistant" for message in messages):
            problems.append(
                Problem(line, "no assistant turn (nothing to learn)", "messages", "no_assistant")
            )
        return problems
    problems = []
    if not record["input"]["messages"]:
        problems.append(Problem(line, "no input messages", "input.messages", "no_messages"))
    problems += message_problems(record["input"]["messages"], line, "input.messages")
    for key in ("preferred_output", "non_preferred_output"):
        turns = record[key]
        if not turns:
            problems.append(Problem(line, "no answer", key, "no_assistant"))
        elif any(turn["role"] != "assistant" for turn in turns):
            problems.append(Problem(line, "answers must be assistant turns", key, "role"))
        problems += message_problems(turns, line, key)
    return problems


def record_tokens(record: Mapping[str, Any], format: str, count: Any = count_tokens) -> int:
    """Tokens of one canonical record as OpenAI counts a chat example: per message
    :data:`TOKENS_PER_MESSAGE` plus the tokens of its role, its content's text (image parts
    are not counted) and its other values (``name`` plus :data:`TOKENS_PER_NAME`; tool calls
    as compact JSON; ``weight`` is not counted), then :data:`TOKENS_PER_REPLY` per example. A
    prompt/completion record counts as a user and an assistant message; a preference record
    as its input, preferred and non-preferred messages."""
    if format == "prompt_completion":
        messages: list[Mapping[str, Any]] = [
            {"role": "user", "content": record["prompt"]},
            {"role": "assistant", "content": record["completion"]},
        ]
    else:
        messages = record_messages(record, format)
    total = TOKENS_PER_REPLY
    for message in messages:
        total += TOKENS_PER_MESSAGE
        for key, value in message.items():
            if key == "weight":
                continue
            if key == "content":
                total += int(count(content_text(value)))
            elif isinstance(value, str):
                total += int(count(value)) + (TOKENS_PER_NAME if key == "name" else 0)
            elif value is not None:
                total += int(count(canonical_bytes(value).decode()))
    return total


def _utf8_bytes(text: str) -> int:
    return len(text.encode())


def canonical_bytes(record: Any) -> bytes:
    """The record as compact JSON with sorted keys (what duplicates and fingerprints compare)."""
    blob: bytes = _encoder().encode(record)
    return blob


def _encoder() -> Any:
    import msgspec

    return msgspec.json.Encoder(order="sorted")


class Checker:
    """Checks records one at a time and builds the :class:`ValidationReport`.

    :param format: the dataset format.
    :param provider: an export name (looked up among the installed providers), its
        :class:`~modelops_core.finetune.provider_contract.ExportTarget`, or None for the general
            checks only.
    :param model: the model, for its token limit (and the tokenizer it is counted with).
    :param file_bytes: the size of the file checked, for the provider's file-size limit.
    :param tokenizer: what counts tokens: None or ``"auto"`` (the tokenizer the provider
        declares for the model when it can be used, else the estimate), ``"estimate"``,
        ``"tiktoken"``, ``"tiktoken:<encoding>"``, ``"module:callable"`` or a counter object;
        see :func:`modelops_core.datasets.tokens.resolve_counter`.
    :param fingerprint: also compute the dataset fingerprint while checking.
    :param struct_keys: find duplicates by hashing records as chat structs (no canonical
        encoding of each record; see :func:`modelops_core.datasets.jsonl.fast_checks.run_keys`) when
        no fingerprint is wanted. Either way a duplicate is an equal canonical record; duplicates
        are found when the report is made (see
        :class:`~modelops_core.datasets.duplicates.DuplicateLog`).
    """

    def __init__(
        self,
        format: str | None,
        provider: str | ExportTarget | None = None,
        model: str | None = None,
        tokenizer: Any = None,
        *,
        fingerprint: bool = False,
        struct_keys: bool = False,
        file_bytes: int | None = None,
    ) -> None:
        self.format = format
        if isinstance(provider, str):
            self.target = ProviderCatalogue.of().target(provider) if provider else None
        else:
            self.target = provider
        self.provider = self.target.name if self.target is not None else None
        self.model = model
        self.file_bytes = file_bytes
        self.limits = self.target.limits if self.target is not None else None
        self.max_tokens = self.limits.tokens_for(model) if self.limits else 0
        self.counting: Counting | None = None
        if self.max_tokens or tokenizer not in (None, "auto"):
            declared = self.limits.tokenizer_for(model) if self.limits else ""
            self.counting = resolve_counter(tokenizer, declared)
        self.count = self.counting.count if self.counting is not None else count_tokens
        # the estimate and tiktoken never count more tokens than UTF-8 bytes: records shorter
        # than the limit in bytes are not counted; any other counter counts every record
        self._count_always = self.counting is not None and not self.counting.within_bytes
        self._strict_keys = self.limits is not None and self.limits.strict_message_keys
        self.examples = 0
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self._places: list[int] = []  # per problem, its place in the order of finding: _note
        self._duplicates = DuplicateLog()
        self._hash = hashlib.sha256() if fingerprint else None
        self._encode = _encoder().encode
        self._struct_keys = struct_keys and not fingerprint
        self._format_checked = False

    def check_format(self, format: str) -> None:
        """Whether ``format`` can be exported for the provider (checked once)."""
        self.format = format
        if self._format_checked or self.target is None:
            return
        self._format_checked = True
        target = self.target.base
        from modelops_core.datasets.formats import convert_record

        samples: dict[str, dict[str, Any]] = {
            "prompt_completion": {"prompt": "p", "completion": "c"},
            "chat": {"messages": [{"role": "assistant", "content": "c"}]},
            "preference": {
                "input": {"messages": []},
                "preferred_output": [{"role": "assistant", "content": "a"}],
                "non_preferred_output": [{"role": "assistant", "content": "b"}],
            },
        }
        sample = samples[format]
        try:
            convert_record(sample, format, target, "dataset")
        except DatasetFormatError as exc:
            self._note([Problem(0, str(exc).removeprefix("dataset: "), "", "format")])

    def add(
        self,
        line: int,
        record: Any,
        format: str,
        *,
        blob: bytes | None = None,
        notes: Iterable[Note] = (),
    ) -> None:
        """Check one canonical record (a dict); ``notes`` are what normalizing it dropped
        (:func:`~modelops_core.datasets.formats.normalize`): errors when the provider's
        ``strict_message_keys`` says so, else warnings."""
        self._note([Problem(line, n.reason, n.field, n.code) for n in notes], self.examples)
        self.examples += 1
        size: int | None = None
        if self._struct_keys and blob is None:
            from modelops_core.datasets.jsonl.fast_checks import record_key

            key = record_key(record, format, self._encode)
        else:
            if blob is None:
                blob = self._encode(record)
            if self._hash is not None:
                self._hash.update(blob)
                self._hash.update(b"\n")
            key = hash(blob)
            size = len(blob)
        self._duplicates.add(key, line)
        example = self.examples - 1
        self._note(record_problems(record, format, line), example)
        self._check_tokens(line, record, format, size, example)

    def add_fast_run(self, lines: Sequence[int], structs: list[Any], sizes: Sizes) -> None:
        """Check chat structs (one per line of ``lines``, whose lengths in bytes are ``sizes``)
        whose shape msgspec already checked: the common case runs as C-level maps, only the
        records that may have a problem are checked one by one."""
        from modelops_core.datasets.jsonl.fast_checks import run_keys, suspects

        count = len(structs)
        first = self.examples
        self.examples += count
        if self._struct_keys:
            keys = run_keys(structs, self._encode)
        else:
            import numpy as np

            blobs = list(map(self._encode, structs))
            if self._hash is not None:
                self._hash.update(b"\n".join(blobs))
                self._hash.update(b"\n")
            keys = np.fromiter(map(hash, blobs), np.int64, count)
        self._duplicates.add_run(keys, lines)
        indexes: Sequence[int]
        if self.max_tokens and self._count_always:  # a real tokenizer counts every record
            indexes = range(count)
        else:
            indexes = suspects(structs, sizes, self.max_tokens)
        if indexes:
            import msgspec

            for index in indexes:
                line = lines[index]
                record = msgspec.to_builtins(structs[index])
                self._note(record_problems(record, "chat", line), first + index)
                self._check_tokens(line, record, "chat", None, first + index)

    def add_problem(self, problem: Problem) -> None:
        self._note([problem])

    def _note(self, problems: Iterable[Problem], example: int | None = None) -> None:
        """Keep problems with their place in the order of finding, which orders problems of
        the same line in the report: ``example`` is the index of the example they belong to
        (None: not an example's, e.g. an invalid line). An example's duplicate problem, found
        at the end, takes the place between the two."""
        place = 3 * self.examples if example is None else 3 * example + 2
        for problem in problems:
            if problem.code in KEY_CODES and not self._strict_keys:
                self.warnings.append(problem)
                continue
            self.problems.append(problem)
            self._places.append(place)

    def _check_tokens(
        self, line: int, record: Mapping[str, Any], format: str, size: int | None, example: int
    ) -> None:
        """A token-limit problem, if any. ``size`` (the canonical encoding's length) or else
        the content characters bound the estimator's count: records within the limit by that
        bound are not counted."""
        if not self.max_tokens:
            return
        if not self._count_always:
            bound = size if size is not None else record_tokens(record, format, _utf8_bytes)
            if bound <= self.max_tokens:
                return
        tokens = record_tokens(record, format, self.count)
        if tokens > self.max_tokens:
            where = f"{self.provider}" + (f" {self.model}" if self.model else "")
            problem = Problem(
                line,
                f"{tokens:,} tokens, over the {self.max_tokens:,} per example of {where}",
                "",
                "too_many_tokens",
            )
            self._note([problem], example)

    def report(self, source: str = "") -> ValidationReport:
        """The report: record problems in line order, then dataset-level ones."""
        found = list(zip(self.problems, self._places, strict=True))
        duplicates = [
            (Problem(line, f"duplicate of line {first}", "", "duplicate"), 3 * example + 1)
            for example, line, first in self._duplicates.duplicates()
        ]
        # A repeated example is an error only for a provider that refuses the file for it.
        refused = self.limits is not None and self.limits.refuses_duplicates
        if refused:
            found += duplicates
        else:
            self.warnings.extend(problem for problem, _ in duplicates)
        found.sort(key=lambda item: (item[0].line, item[1]))
        problems = [problem for problem, _ in found]
        if self.limits is not None and self.examples < self.limits.min_examples:
            problems.append(
                Problem(
                    0,
                    f"{self.examples} examples; {self.provider} needs at least "
                    f"{self.limits.min_examples}",
                    "",
                    "too_few_examples",
                )
            )
        most = self.limits.max_file_bytes if self.limits is not None else 0
        if most and self.file_bytes is not None and self.file_bytes > most:
            problems.append(
                Problem(
                    0,
                    f"the file is {self.file_bytes:,} bytes, over the {most:,} of "
                    f"{self.provider}; split it or sample fewer examples",
                    "",
                    "file_too_large",
                )
            )
        fingerprint = f"sha256:{self._hash.hexdigest()}" if self._hash is not None else None
        return ValidationReport(
            examples=self.examples,
            problems=tuple(problems),
            provider=self.provider,
            model=self.model,
            source=source,
            fingerprint=fingerprint,
            warnings=tuple(sorted(self.warnings, key=lambda warning: warning.line)),
            tokenizer=self.counting.name if self.counting is not None and self.max_tokens else "",
        )
