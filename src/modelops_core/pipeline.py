"""Run a pipeline: ordered steps, reused when their inputs are unchanged, resumable.

Each step is a component of kind ``step`` (``modelops_register_steps``), built from its
``[[pipeline.steps]]`` options. Its cache key chains the previous step's key, its own name,
options and code version, and whatever extra inputs it declares (``cache_inputs``: for
example the digest of the file it reads). A step whose key was computed before and whose
outputs still exist is reused instead of run again.

    >>> from modelops_core.pipeline import Pipeline  # doctest: +SKIP
    >>> Pipeline.from_file("pipeline.toml").run()    # doctest: +SKIP
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from modelops_core.config import ComponentChoice, frozen_mapping
from modelops_core.errors import ModelOpsError
from modelops_core.kinds import Kind
from modelops_core.pipeline_spec import PipelineSpec, StepSpec, load_pipeline

if TYPE_CHECKING:
    from modelops_core.runtime import Runtime
    from modelops_core.tracking import Run

STATE_VERSION = 1
#: Step results remembered per pipeline for reuse (the oldest are forgotten first).
CACHE_ENTRIES = 256
#: Step outputs naming files that are stored with the tracking run of a pipeline run.
_ARTIFACT_OUTPUTS = ("report", "evaluation", "sanitize_report")


class PipelineError(ModelOpsError):
    """A pipeline could not run; the message names the step."""


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


class Step(Protocol):
    """What a step component offers. Only ``run`` is required.

    - ``run(context) -> Mapping``: do the work; return JSON-able outputs (paths, ids, numbers)
      that later steps read with ``context.latest(key)``.
    - ``cacheable`` (default True): False for steps with side effects that must happen on
      every run (moving an alias); they are still skipped by ``--resume`` after succeeding.
    - ``cache_inputs(context) -> Mapping`` (optional): extra inputs of the cache key that the
      options do not show, such as the digest of a file named in the options.
    """

    def run(self, context: StepContext) -> Mapping[str, Any]: ...


@attrs.frozen
class StepResult:
    """One step of a run: what happened, how long it took, what it produced."""

    id: str
    uses: str
    status: StepStatus
    seconds: float = 0.0
    key: str = ""
    outputs: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_mapping)
    error: str | None = None


@attrs.frozen
class PipelineResult:
    """A whole run: its status (``succeeded``, ``failed``, ``interrupted``, ``planned``)."""

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


@attrs.define
class StepContext:
    """What a step sees while it runs.

    :param workdir: an empty directory for this step's files (kept for reuse).
    :param outputs: the outputs of the steps before this one, by step id.
    :param run: the tracking run of this pipeline run (log metrics and artifacts on it).
    """

    runtime: Runtime
    pipeline: PipelineSpec
    step: StepSpec
    workdir: Path
    outputs: Mapping[str, Mapping[str, Any]]
    run: Run | None = None
    say: Callable[[str], None] = lambda message: None

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


class Pipeline:
    """A pipeline bound to a runtime: plan it, run it, resume it.

    :param spec: from :func:`modelops_core.pipeline_spec.load_pipeline` or ``from_file``.
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
                extra = cache_inputs(self._context(step, {}, None))
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
        self, step: StepSpec, outputs: Mapping[str, Mapping[str, Any]], run: Run | None
    ) -> StepContext:
        return StepContext(
            runtime=self.runtime,
            pipeline=self.spec,
            step=step,
            workdir=self.home / "steps" / step.id,
            outputs=outputs,
            run=run,
        )

    def plan(self, *, resume: bool = False) -> PipelineResult:
        """What a run would do: each step ``would run`` or ``would reuse`` (nothing runs)."""
        built = {step.id: self._build(step) for step in self.spec.steps}
        keys = self._keys(built)
        state = _State.load(self.home / "state.json")
        results = []
        for step in self.spec.steps:
            reusable = state.reusable(step.id, keys[step.id], built[step.id], resume=resume)
            status = StepStatus.WOULD_REUSE if reusable is not None else StepStatus.WOULD_RUN
            results.append(StepResult(step.id, step.uses, status, key=keys[step.id]))
        return PipelineResult(self.spec.name, "planned", tuple(results))

    # --- running -------------------------------------------------------------------------------

    def run(
        self, *, resume: bool = False, observer: Observer | None = None, track: bool = True
    ) -> PipelineResult:
        """Run every step in order, reusing what is unchanged.

        :param resume: also skip steps that succeeded in the previous, unfinished run even
            when they are not cacheable (the run continues from the step that failed).
        :param track: record the run in the tracking store (experiment ``pipeline:<name>``).
        :raises StepFailedError: a step raised; the run is recorded as failed.
        :raises KeyboardInterrupt: re-raised after the run is recorded as interrupted.
        """
        observer = observer or _SilentObserver()
        started = time.perf_counter()
        built = {step.id: self._build(step) for step in self.spec.steps}
        keys = self._keys(built)
        state_path = self.home / "state.json"
        state = _State.load(state_path)
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
                    state.finish_step(step.id, result, cacheable=_cacheable(built[step.id]))
                    state.save(state_path)
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
                state.save(state_path)
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
            )
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
        reused = state.reusable(step.id, key, component, resume=resume)
        observer.step_started(step, reused is not None)
        if reused is not None:
            result = StepResult(step.id, step.uses, StepStatus.REUSED, key=key, outputs=reused)
            observer.step_finished(result)
            return result
        context = self._context(step, dict(outputs), run)
        context.say = lambda message: observer.step_message(step, message)
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
            failed = StepResult(step.id, step.uses, StepStatus.FAILED, seconds, key, error=message)
            state.fail_step(step.id, key, message)
            observer.step_finished(failed)
            return failed
        result = StepResult(
            step.id, step.uses, StepStatus.RAN, time.perf_counter() - began, key, produced
        )
        observer.step_finished(result)
        return result

    @contextmanager
    def _tracking(self, track: bool) -> Iterator[Run | None]:
        if not track:
            yield None
            return
        from modelops_core.tracking import ExperimentTracker

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


def _outputs_exist(outputs: Mapping[str, Any]) -> bool:
    for value in outputs.values():
        if isinstance(value, str) and os.path.isabs(value) and not os.path.exists(value):
            return False
    return True


@attrs.define
class _State:
    """``<home>/pipelines/<name>/state.json``: the cache of step outputs and the last run."""

    cache: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    last: dict[str, Any] = attrs.field(factory=dict)
    current: dict[str, Any] = attrs.field(factory=dict)

    @classmethod
    def load(cls, path: Path) -> _State:
        if not path.is_file():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()  # a damaged cache only costs a recomputation
        if data.get("version") != STATE_VERSION:
            return cls()
        return cls(cache=data.get("cache", {}), last=data.get("last", {}))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"version": STATE_VERSION, "cache": self.cache, "last": self.current or self.last}
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
        os.replace(temporary, path)

    def reusable(
        self, step_id: str, key: str, component: Any, *, resume: bool
    ) -> Mapping[str, Any] | None:
        entry = self.cache.get(key)
        if entry is None or not _outputs_exist(entry.get("outputs", {})):
            return None
        if _cacheable(component):
            return dict(entry["outputs"])
        previous = self.last.get("steps", {}).get(step_id, {})
        unfinished = self.last.get("status") in ("failed", "interrupted", "running")
        if resume and unfinished and previous.get("key") == key and previous.get("ok"):
            return dict(entry["outputs"])
        return None

    def begin(self, run_id: str | None) -> None:
        self.current = {"run_id": run_id, "status": "running", "started": time.time(), "steps": {}}

    def finish_step(self, step_id: str, result: StepResult, *, cacheable: bool) -> None:
        self.cache.pop(result.key, None)  # re-inserted last: the oldest entries go first
        self.cache[result.key] = {"step": step_id, "outputs": dict(result.outputs)}
        for stale in list(self.cache)[: max(0, len(self.cache) - CACHE_ENTRIES)]:
            del self.cache[stale]
        self.current["steps"][step_id] = {"key": result.key, "ok": True, "cacheable": cacheable}

    def fail_step(self, step_id: str, key: str, message: str) -> None:
        self.current["steps"][step_id] = {"key": key, "ok": False, "error": message}

    def end(self, status: str) -> None:
        self.current["status"] = status
        self.current["ended"] = time.time()
