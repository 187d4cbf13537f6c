"""Run a pipeline: ordered steps, reused when their inputs are unchanged, resumable.

Each step is a component of kind ``step`` (``modelops_register_steps``), built from its
``[[pipeline.steps]]`` options. Its cache key chains the previous step's key, its own name,
options and code version, and whatever extra inputs it declares (``cache_inputs``: for
example the digest of the file it reads).

A step writes its files into a folder named after its key
(``<home>/pipelines/<name>/steps/<step id>/<key prefix>/``), so results of other options never
share a folder. When it finishes, the size and sha256 of every file (or folder) its outputs
name are recorded; a step is reused only when its key was computed before and every recorded
file still has that size and hash, otherwise it runs again. The state file is checksummed: a
damaged or edited one is an error that says how to reset, never a silent recomputation.

Steps with side effects record their intent before acting (``context.record``), so a run
killed half-way re-attaches on the next run instead of acting twice (``finetune`` finds its
job, ``register`` its version).

    >>> from modelops_core.pipeline.runner import Pipeline  # doctest: +SKIP
    >>> Pipeline.from_file("pipeline.toml").run()    # doctest: +SKIP
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from modelops_core.config import ComponentChoice, frozen_mapping
from modelops_core.errors import ModelOpsError
from modelops_core.pipeline.spec import PipelineSpec, StepSpec, load_pipeline
from modelops_core.plugins.kinds import Kind

if TYPE_CHECKING:
    from modelops_core.runtime import Runtime
    from modelops_core.tracking.tracker import Run

#: The layout of ``state.json``; version 1 kept one fixed folder per step (its files are
#: not trusted and its entries are ignored).
STATE_VERSION = 2
#: Step results remembered per pipeline for reuse (the oldest are forgotten first, with
#: their step folders).
CACHE_ENTRIES = 256
#: Test hook: ``<step id>:<point>`` makes the process stop with ``os._exit(137)`` when that
#: step reaches that point (``finetune:job-started``, ``register:registered``, and for every
#: step ``<id>:finished``: after it returned, before its result is saved), the way a kill
#: would. Only the crash tests set it.
CRASH_AT_ENV = "MODELOPS_TEST_CRASH_AT"
#: The characters of the cache key naming a step's folder.
_FOLDER_KEY_CHARS = 16
#: Step outputs naming files that are stored with the tracking run of a pipeline run.
_ARTIFACT_OUTPUTS = ("report", "evaluation", "sanitize_report")


class PipelineError(ModelOpsError):
    """A pipeline could not run; the message names the step."""


class PipelineStateError(PipelineError):
    """The state file of a pipeline is damaged or was edited; the message says how to reset."""


class StepFailedError(PipelineError):
    """A step raised; the run stopped there and ``modelops run --resume`` continues from it.

    :param result: the run as far as it went (``result.steps`` shows which step failed).
    """

    def __init__(self, message: str, *, step: str, result: PipelineResult) -> None:
        super().__init__(message)
        self.step = step
        self.result = result


class PipelineInterruptedError(PipelineError):
    """Ctrl-C stopped the run; it is recorded as interrupted and can be resumed."""

    def __init__(self, message: str, *, result: PipelineResult) -> None:
        super().__init__(message)
        self.result = result


class StepStatus(enum.StrEnum):
    """What happened to a step in a run (or would happen, for a dry run)."""

    RAN = "ran"
    REUSED = "reused"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    NOT_RUN = "not run"
    WOULD_RUN = "would run"
    WOULD_REUSE = "would reuse"
    WOULD_FAIL = "would fail"


class Step(Protocol):
    """What a step component offers. Only ``run`` is required.

    - ``run(context) -> Mapping``: do the work; return JSON-able outputs (paths, ids, numbers)
      that later steps read with ``context.latest(key)``. Files go into ``context.workdir``.
    - ``cacheable`` (default True): False for steps with side effects that must happen on
      every run (moving an alias); they are still skipped by ``--resume`` after succeeding.
    - ``cache_inputs(context) -> Mapping`` (optional): extra inputs of the cache key that the
      options do not show, such as the digest of a file named in the options.
    - ``plan(context) -> str`` (optional): for ``--dry-run``, what running it would do
      (``"would move production 2 -> 1"``); raise :class:`PipelineError` for a missing input.
    """

    def run(self, context: StepContext) -> Mapping[str, Any]: ...


@attrs.frozen
class StepResult:
    """One step of a run: what happened, how long it took, what it produced.

    :param detail: why it ran or was reused (a dry run also says what it would do).
    """

    id: str
    uses: str
    status: StepStatus
    seconds: float = 0.0
    key: str = ""
    outputs: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_mapping)
    error: str | None = None
    detail: str = ""
    #: what the step raised (not saved; the CLI maps it to the documented exit code)
    exception: BaseException | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class PipelineResult:
    """A whole run: its status (``succeeded``, ``failed``, ``interrupted``, ``planned``, or
    ``blocked`` for a plan with a missing input)."""

    pipeline: str
    status: str
    steps: tuple[StepResult, ...]
    run_id: str | None = None
    seconds: float = 0.0

    def outputs(self) -> dict[str, Any]:
        """Every step's outputs merged in order (later steps win), as ``context.latest`` sees."""
        merged: dict[str, Any] = {}
        for step in self.steps:
            merged.update(step.outputs)
        return merged


class Observer(Protocol):
    """Receives progress; the CLI draws it live (the engine itself prints nothing)."""

    def step_started(self, step: StepSpec, reused: bool) -> None: ...

    def step_message(self, step: StepSpec, message: str) -> None: ...

    def step_finished(self, result: StepResult) -> None: ...


class _SilentObserver:
    def step_started(self, step: StepSpec, reused: bool) -> None:
        pass

    def step_message(self, step: StepSpec, message: str) -> None:
        pass

    def step_finished(self, result: StepResult) -> None:
        pass


_MISSING: Any = object()


def _forget(values: Mapping[str, Any]) -> None:
    """Where ``record`` goes when nothing keeps the journal (a context built by hand)."""


@attrs.define
class StepContext:
    """What a step sees while it runs.

    :param workdir: an empty directory for this step's files, named after its cache key.
    :param outputs: the outputs of the steps before this one, by step id.
    :param run: the tracking run of this pipeline run (log metrics and artifacts on it).
    :param journal: what an unfinished earlier attempt of this step, with the same key,
        recorded with :meth:`record` (empty on a first attempt).
    """

    runtime: Runtime
    pipeline: PipelineSpec
    step: StepSpec
    workdir: Path
    outputs: Mapping[str, Mapping[str, Any]]
    run: Run | None = None
    say: Callable[[str], None] = lambda message: None
    journal: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_mapping)
    keep_journal: Callable[[Mapping[str, Any]], None] = _forget

    def latest(self, key: str, default: Any = _MISSING) -> Any:
        """The value of ``key`` in the nearest earlier step that produced it."""
        for outputs in reversed(list(self.outputs.values())):
            if key in outputs:
                return outputs[key]
        if default is not _MISSING:
            return default
        produced = sorted({k for outputs in self.outputs.values() for k in outputs})
        raise PipelineError(
            f"{self.step.where}: step {self.step.uses!r} needs {key!r} from an earlier step, "
            f"and none produced it (earlier outputs: {', '.join(produced) or 'none'}). "
            "Add the step that produces it before this one."
        )

    def path(self, value: str | os.PathLike[str]) -> Path:
        """``value`` taken relative to the pipeline file's directory."""
        path = Path(value)
        return path if path.is_absolute() else self.pipeline.base_dir / path

    def record(self, **values: Any) -> None:
        """Write ``values`` (JSON) into this step's journal, durably, before acting on them.

        A run killed after this call hands them back as :attr:`journal` to the next attempt
        of the step with the same key, which re-attaches instead of acting twice. The
        journal is dropped once the step succeeded.
        """
        merged = {**self.journal, **values}
        self.keep_journal(merged)
        self.journal = frozen_mapping(merged)

    def checkpoint(self, point: str) -> None:
        """Stop the process here when the test hook :data:`CRASH_AT_ENV` names this point."""
        _crash_point(self.step.id, point)


def _crash_point(step_id: str, point: str) -> None:
    if os.environ.get(CRASH_AT_ENV) == f"{step_id}:{point}":
        os._exit(137)


class Pipeline:
    """A pipeline bound to a runtime: plan it, run it, resume it.

    :param spec: from :func:`modelops_core.pipeline.spec.load_pipeline` or ``from_file``.
    :param runtime: the runtime whose configuration and plugins provide the steps.
    """

    def __init__(self, spec: PipelineSpec, runtime: Runtime | None = None) -> None:
        if runtime is None:
            from modelops_core.runtime import Runtime

            runtime = Runtime()
        self.spec = spec
        self.runtime = runtime
        self.home = runtime.config.home / "pipelines" / spec.name

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], runtime: Runtime | None = None) -> Pipeline:
        """The pipeline in the ``[pipeline]`` table of the TOML file ``path``."""
        return cls(load_pipeline(Path(path)), runtime)

    @property
    def state_path(self) -> Path:
        """``<home>/pipelines/<name>/state.json``: the reuse cache, journals and last run."""
        return self.home / "state.json"

    def workdir(self, step: StepSpec, key: str) -> Path:
        """The folder of ``step``'s files for the cache key ``key``."""
        return self.home / "steps" / step.id / key[:_FOLDER_KEY_CHARS]

    # --- planning ------------------------------------------------------------------------------

    def _build(self, step: StepSpec) -> Any:
        choice = ComponentChoice(step.uses, step.options, where=step.where)
        return self.runtime.create(Kind.STEP, choice)

    def _keys(self, built: Mapping[str, Any]) -> dict[str, str]:
        keys: dict[str, str] = {}
        previous = ""
        for step in self.spec.steps:
            component = built[step.id]
            extra: Mapping[str, Any] = {}
            cache_inputs = getattr(component, "cache_inputs", None)
            if callable(cache_inputs):
                extra = cache_inputs(self._context(step, "", {}, None))
            material = {
                "previous": previous,
                "uses": step.uses,
                "code": self._code_version(step.uses),
                "options": step.options,
                "inputs": extra,
            }
            previous = _digest(material)
            keys[step.id] = previous
        return keys

    def _code_version(self, uses: str) -> str:
        from importlib.metadata import PackageNotFoundError, version

        spec = self.runtime.components[Kind.STEP].get(uses)
        if not spec.distribution:
            return spec.plugin
        try:
            return f"{spec.distribution}=={version(spec.distribution)}"
        except PackageNotFoundError:
            return spec.distribution

    def _context(
        self,
        step: StepSpec,
        key: str,
        outputs: Mapping[str, Mapping[str, Any]],
        run: Run | None,
    ) -> StepContext:
        return StepContext(
            runtime=self.runtime,
            pipeline=self.spec,
            step=step,
            workdir=self.workdir(step, key) if key else self.home / "steps" / step.id,
            outputs=outputs,
            run=run,
        )

    def plan(self, *, resume: bool = False) -> PipelineResult:
        """What a run would do, and why: each step ``would run``, ``would reuse`` (its files
        verified) or ``would fail`` (a missing input); nothing runs, nothing is written.

        :raises PipelineStateError: the state file is damaged or was edited.
        """
        built = {step.id: self._build(step) for step in self.spec.steps}
        keys = self._keys(built)
        state = _State.load(self.state_path)
        outputs: dict[str, Mapping[str, Any]] = {}
        results = []
        earlier_runs = False
        blocked = False
        for step in self.spec.steps:
            key, component = keys[step.id], built[step.id]
            reused, why = state.reusable(step.id, key, component, resume=resume)
            if reused is not None:
                results.append(
                    StepResult(step.id, step.uses, StepStatus.WOULD_REUSE, key=key, detail=why)
                )
                outputs[step.id] = reused
                continue
            if earlier_runs and why == _NOTHING_STORED:
                why = "an earlier step runs"
            journal = state.journal_for(step.id, key)
            if journal:
                why += f"; continues the unfinished attempt ({_brief_journal(journal)})"
            earlier_runs = True
            status = StepStatus.WOULD_RUN
            error = None
            describe = getattr(component, "plan", None)
            if callable(describe):
                context = self._context(step, key, dict(outputs), None)
                context.journal = frozen_mapping(journal)
                try:
                    said = describe(context)
                except ModelOpsError as exc:
                    status, error, blocked = StepStatus.WOULD_FAIL, str(exc), True
                else:
                    if said:
                        why = f"{why}; {said}"
            results.append(StepResult(step.id, step.uses, status, key=key, error=error, detail=why))
        return PipelineResult(self.spec.name, "blocked" if blocked else "planned", tuple(results))

    # --- running -------------------------------------------------------------------------------

    def run(
        self, *, resume: bool = False, observer: Observer | None = None, track: bool = True
    ) -> PipelineResult:
        """Run every step in order, reusing what is unchanged and verified.

        :param resume: also skip steps that succeeded in the previous, unfinished run even
            when they are not cacheable (the run continues from the step that failed).
        :param track: record the run in the tracking store (experiment ``pipeline:<name>``).
        :raises PipelineStateError: the state file is damaged or was edited; nothing ran.
        :raises StepFailedError: a step raised; the run is recorded as failed.
        :raises PipelineInterruptedError: Ctrl-C; the run is recorded as interrupted.
        """
        observer = observer or _SilentObserver()
        started = time.perf_counter()
        built = {step.id: self._build(step) for step in self.spec.steps}
        keys = self._keys(built)
        state = _State.load(self.state_path)
        outputs: dict[str, Mapping[str, Any]] = {}
        results: list[StepResult] = []
        with self._tracking(track) as run:
            state.begin(run.id if run is not None else None)
            status = "succeeded"
            try:
                for step in self.spec.steps:
                    result = self._run_step(
                        step, built[step.id], keys[step.id], state, outputs, run, observer, resume
                    )
                    results.append(result)
                    if result.status in (StepStatus.FAILED, StepStatus.INTERRUPTED):
                        status = "failed" if result.status == StepStatus.FAILED else "interrupted"
                        break
                    outputs[step.id] = result.outputs
                    if result.status == StepStatus.RAN:
                        _crash_point(step.id, "finished")
                    state.finish_step(
                        step.id,
                        result,
                        cacheable=_cacheable(built[step.id]),
                        workdir=self.workdir(step, result.key),
                        steps_root=self.home / "steps",
                    )
                    state.save()
            except KeyboardInterrupt:  # between steps
                status = "interrupted"
            finally:
                done = {r.id for r in results}
                results += [
                    StepResult(s.id, s.uses, StepStatus.NOT_RUN)
                    for s in self.spec.steps
                    if s.id not in done
                ]
                state.end(status)
                state.save()
                if run is not None:
                    self._record(run, status, results, outputs)
        outcome = PipelineResult(
            self.spec.name,
            status,
            tuple(results),
            run_id=run.id if run is not None else None,
            seconds=time.perf_counter() - started,
        )
        if status == "interrupted":
            raise PipelineInterruptedError(
                f"The pipeline {self.spec.name!r} was interrupted; it is recorded as "
                f"interrupted. Continue it with: modelops run {self.spec.source} --resume",
                result=outcome,
            )
        if status == "failed":
            failed = next(r for r in results if r.status == StepStatus.FAILED)
            raise StepFailedError(
                f"step {failed.id!r} ({failed.uses}) failed: {failed.error}\n"
                f"Fix the cause, then continue from this step: modelops run "
                f"{self.spec.source} --resume",
                step=failed.id,
                result=outcome,
            ) from failed.exception
        return outcome

    def _run_step(
        self,
        step: StepSpec,
        component: Any,
        key: str,
        state: _State,
        outputs: Mapping[str, Mapping[str, Any]],
        run: Run | None,
        observer: Observer,
        resume: bool,
    ) -> StepResult:
        reused, why = state.reusable(step.id, key, component, resume=resume)
        observer.step_started(step, reused is not None)
        if reused is not None:
            result = StepResult(
                step.id, step.uses, StepStatus.REUSED, key=key, outputs=reused, detail=why
            )
            observer.step_finished(result)
            return result
        context = self._context(step, key, dict(outputs), run)
        context.say = lambda message: observer.step_message(step, message)
        context.journal = frozen_mapping(state.journal_for(step.id, key))
        context.keep_journal = lambda values: state.keep_journal(step.id, key, values)
        # a fresh, empty folder: files of an interrupted attempt are not trusted
        shutil.rmtree(context.workdir, ignore_errors=True)
        context.workdir.mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        try:
            produced = _json_outputs(component.run(context), step)
        except KeyboardInterrupt:
            seconds = time.perf_counter() - began
            stopped = StepResult(step.id, step.uses, StepStatus.INTERRUPTED, seconds, key)
            state.fail_step(step.id, key, "interrupted")
            observer.step_finished(stopped)
            return stopped
        except Exception as exc:  # any failure of a step is reported, with the step named
            seconds = time.perf_counter() - began
            message = str(exc) if isinstance(exc, ModelOpsError) else f"{type(exc).__name__}: {exc}"
            failed = StepResult(
                step.id,
                step.uses,
                StepStatus.FAILED,
                seconds,
                key,
                error=message,
                detail=why,
                exception=exc,
            )
            state.fail_step(step.id, key, message)
            observer.step_finished(failed)
            return failed
        result = StepResult(
            step.id,
            step.uses,
            StepStatus.RAN,
            time.perf_counter() - began,
            key,
            produced,
            detail=why,
        )
        observer.step_finished(result)
        return result

    @contextmanager
    def _tracking(self, track: bool) -> Iterator[Run | None]:
        if not track:
            yield None
            return
        from modelops_core.tracking.tracker import ExperimentTracker

        tracker = ExperimentTracker(self.runtime)
        try:
            run = tracker.start(f"pipeline:{self.spec.name}", tags={"pipeline": self.spec.name})
            run.log_params(
                {
                    f"{step.id}.{key}": json.dumps(value, sort_keys=True, default=str)
                    for step in self.spec.steps
                    for key, value in step.options.items()
                }
            )
            yield run
        finally:
            tracker.close()

    def _record(
        self,
        run: Run,
        status: str,
        results: list[StepResult],
        outputs: Mapping[str, Mapping[str, Any]],
    ) -> None:
        tags: dict[str, Any] = {"pipeline.status": status}
        for result in results:
            tags[f"step.{result.id}"] = result.status.value
        merged = {k: v for o in outputs.values() for k, v in o.items()}
        for key in ("dataset_fingerprint", "model_name", "model_version", "model_id", "report"):
            if key in merged:
                tags[key] = merged[key]
        run.set_tags(tags)
        seconds = {f"seconds.{r.id}": r.seconds for r in results if r.status == StepStatus.RAN}
        if seconds:
            run.log_metrics(seconds)
        for key in _ARTIFACT_OUTPUTS:
            path = merged.get(key)
            if isinstance(path, str) and os.path.isfile(path):
                run.log_artifact(path, label=key)
        if merged.get("model_name") and merged.get("model_version"):
            run.link_model(str(merged["model_name"]), str(merged["model_version"]))
        run.end("finished" if status == "succeeded" else "failed")


def _cacheable(component: Any) -> bool:
    return bool(getattr(component, "cacheable", True))


def _digest(material: Any) -> str:
    text = json.dumps(material, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _json_outputs(produced: Any, step: StepSpec) -> dict[str, Any]:
    if produced is None:
        return {}
    if not isinstance(produced, Mapping):
        raise PipelineError(
            f"{step.where}: step {step.uses!r} returned {type(produced).__name__}; a step's "
            "run() must return a mapping of JSON values (paths, ids, numbers)."
        )
    try:
        return dict(json.loads(json.dumps(dict(produced))))
    except (TypeError, ValueError) as exc:
        raise PipelineError(
            f"{step.where}: step {step.uses!r} returned outputs that are not JSON ({exc})."
        ) from exc


def _brief_journal(journal: Mapping[str, Any]) -> str:
    shown = {k: v for k, v in journal.items() if k != "attempt"} or journal
    return ", ".join(f"{k} {v}" for k, v in shown.items())


# --- verifying the files a step hands back -----------------------------------------------------


def _output_files(outputs: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Size and sha256 of every existing file or folder named by an absolute path output."""
    files: dict[str, dict[str, Any]] = {}
    for value in outputs.values():
        if isinstance(value, str) and os.path.isabs(value) and os.path.exists(value):
            files[value] = _file_record(Path(value))
    return files


def _file_record(path: Path) -> dict[str, Any]:
    if path.is_dir():
        digest = hashlib.sha256()
        size = 0
        for folder, names, files in os.walk(path):
            names.sort()
            for name in sorted(files):
                member = Path(folder) / name
                record = _file_record(member)
                size += record["size"]
                relative = member.relative_to(path).as_posix()
                digest.update(f"{relative}\0{record['size']}\0{record['sha256']}\n".encode())
        return {"size": size, "sha256": digest.hexdigest(), "folder": True}
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256")
    return {"size": path.stat().st_size, "sha256": digest.hexdigest()}


def _verify(files: Mapping[str, Mapping[str, Any]]) -> str | None:
    """Why the recorded files cannot be handed back, or None when every one is unchanged."""
    for name, expected in files.items():
        path = Path(name)
        if not path.exists():
            return f"{path.name} is gone ({name})"
        try:
            actual = _file_record(path)
        except OSError as exc:
            return f"{path.name} cannot be read ({exc.strerror or exc})"
        if actual["size"] != expected.get("size"):
            return (
                f"{path.name} changed since it was written "
                f"({expected.get('size')} -> {actual['size']} bytes)"
            )
        if actual["sha256"] != expected.get("sha256"):
            return f"{path.name} changed since it was written (its sha256 differs)"
    return None


# --- the state file ---------------------------------------------------------------------------

_NOTHING_STORED = "no stored result for these options and inputs"


@attrs.define
class _State:
    """``<home>/pipelines/<name>/state.json``: the reuse cache, the journals of unfinished
    steps and the last run, with a checksum over all three."""

    path: Path
    cache: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    last: dict[str, Any] = attrs.field(factory=dict)
    journals: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    current: dict[str, Any] = attrs.field(factory=dict)

    @classmethod
    def load(cls, path: Path) -> _State:
        """The state at ``path`` (empty when there is none); a damaged or edited file raises
        :class:`PipelineStateError`."""
        if not path.is_file():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            raise PipelineStateError(_reset(path, f"it is not valid JSON ({exc})")) from None
        except OSError as exc:
            raise PipelineStateError(
                _reset(path, f"it cannot be read ({exc.strerror or exc})")
            ) from None
        if not isinstance(data, dict):
            raise PipelineStateError(_reset(path, "it does not hold a JSON object"))
        if data.get("version") == 1:
            return cls(path)  # one fixed folder per step: those files cannot be trusted
        if data.get("version") != STATE_VERSION:
            raise PipelineStateError(
                _reset(
                    path,
                    f"it has version {data.get('version')!r}, this modelops reads version "
                    f"{STATE_VERSION} (was it written by a newer modelops?)",
                )
            )
        body = {name: data.get(name) for name in ("cache", "last", "journals")}
        if data.get("checksum") != _digest(body):
            raise PipelineStateError(
                _reset(
                    path,
                    "it was changed outside modelops (its checksum does not match its "
                    "content), so the step results it lists cannot be trusted",
                )
            )
        cache, last, journals = body["cache"], body["last"], body["journals"]
        if not (
            isinstance(cache, dict)
            and isinstance(last, dict)
            and isinstance(journals, dict)
            and all(_valid_entry(entry) for entry in cache.values())
            and all(
                isinstance(j, dict) and isinstance(j.get("values"), dict) for j in journals.values()
            )
        ):
            raise PipelineStateError(_reset(path, "its cache entries are malformed"))
        return cls(path, cache=cache, last=last, journals=journals)

    def save(self) -> None:
        """Write the state atomically and durably (a journal must survive a kill)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {"cache": self.cache, "last": self.current or self.last, "journals": self.journals}
        body = json.loads(json.dumps(body, default=str))
        data = {"version": STATE_VERSION, "checksum": _digest(body), **body}
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            handle.write(json.dumps(data, indent=1))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)

    def reusable(
        self, step_id: str, key: str, component: Any, *, resume: bool
    ) -> tuple[Mapping[str, Any] | None, str]:
        """The verified outputs stored for ``key`` (None when the step must run) and why."""
        entry = self.cache.get(key)
        if entry is None:
            return None, _NOTHING_STORED
        if not _cacheable(component):
            previous = self.last.get("steps", {}).get(step_id, {})
            unfinished = self.last.get("status") in ("failed", "interrupted", "running")
            if not (resume and unfinished and previous.get("key") == key and previous.get("ok")):
                return None, "runs on every run (not cacheable)"
        problem = _verify(entry["files"])
        if problem is not None:
            return None, problem
        count = len(entry["files"])
        why = f"key {key[:12]}, {count} file{'s' if count != 1 else ''} verified"
        return dict(entry["outputs"]), why

    def journal_for(self, step_id: str, key: str) -> dict[str, Any]:
        """What an unfinished attempt of ``step_id`` with ``key`` recorded (else empty)."""
        journal = self.journals.get(step_id)
        if journal is None or journal.get("key") != key:
            return {}
        return dict(journal["values"])

    def keep_journal(self, step_id: str, key: str, values: Mapping[str, Any]) -> None:
        self.journals[step_id] = {"key": key, "values": dict(values)}
        self.save()

    def begin(self, run_id: str | None) -> None:
        self.current = {"run_id": run_id, "status": "running", "started": time.time(), "steps": {}}

    def finish_step(
        self,
        step_id: str,
        result: StepResult,
        *,
        cacheable: bool,
        workdir: Path,
        steps_root: Path,
    ) -> None:
        if result.status == StepStatus.RAN or result.key not in self.cache:
            self.cache.pop(result.key, None)  # re-inserted last: the oldest entries go first
            self.cache[result.key] = {
                "step": step_id,
                "workdir": str(workdir),
                "outputs": dict(result.outputs),
                "files": _output_files(result.outputs),
            }
        else:
            self.cache[result.key] = self.cache.pop(result.key)
        for stale in list(self.cache)[: max(0, len(self.cache) - CACHE_ENTRIES)]:
            self._evict(stale, steps_root)
        self.journals.pop(step_id, None)
        self.current["steps"][step_id] = {"key": result.key, "ok": True, "cacheable": cacheable}

    def _evict(self, key: str, steps_root: Path) -> None:
        entry = self.cache.pop(key)
        folder = Path(str(entry.get("workdir", "")))
        kept = {str(other.get("workdir")) for other in self.cache.values()}
        if str(folder) not in kept and folder.is_relative_to(steps_root) and folder != steps_root:
            shutil.rmtree(folder, ignore_errors=True)

    def fail_step(self, step_id: str, key: str, message: str) -> None:
        self.current["steps"][step_id] = {"key": key, "ok": False, "error": message}

    def end(self, status: str) -> None:
        self.current["status"] = status
        self.current["ended"] = time.time()


def _valid_entry(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("outputs"), dict)
        and isinstance(entry.get("files"), dict)
        and all(isinstance(record, dict) for record in entry["files"].values())
    )


def _reset(path: Path, why: str) -> str:
    return (
        f"The pipeline state {path} cannot be used: {why}. Nothing was run. To start over, "
        f"delete it (rm {path}): every step then runs again once; registered models, "
        "tracking runs and fine-tuning jobs are kept."
    )
