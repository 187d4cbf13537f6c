"""Loading registered versions for serving, once each, in the background.

A version answers in one of two ways:

- **in process**, through its model flavor: a version stored with a flavor loads with
  :meth:`ModelRegistry.load <modelops_core.registry.model_registry.ModelRegistry.load>`; a
  version registered as a file or folder is opened by what it holds: the local provider's
  model folder (``config.json`` with ``"format": "modelops-local-model/…"``) by the ``local``
  flavor, ``*.skops`` by ``sklearn`` (skops' trusted-types check; never an unpickle),
  ``*.onnx`` by ``onnx``, ``*.json`` by ``json`` and ``*.npy`` by ``numpy``;
- **through a provider**: a version that records a tuned provider model (``{"model_id": …}``
  stored as the model, or ``model_id`` / ``fine_tuned_model`` in its metadata, with the
  provider in its lineage) calls that provider's ``predict(model_id, inputs)``; a provider
  with ``stream(model_id, text)`` streams chat answers.

:class:`ModelLoader` runs the loads on its own thread with its own registry connection; a load
that fails keeps its error (readiness shows it) and never stops the server.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from modelops_core.config import mask_urls_in
from modelops_core.serving.errors import ModelLoadError

if TYPE_CHECKING:
    from modelops_core.registry.model_registry import ModelRegistry
    from modelops_core.runtime import Runtime
    from modelops_core.store.contract import ModelVersion

__all__ = ["ModelLoader", "ServedVersion", "load_version"]

#: file suffix -> (flavor, the file name it loads, details)
_FILE_FLAVORS: dict[str, tuple[str, str, dict[str, Any]]] = {
    ".skops": ("sklearn", "model.skops", {"format": "skops", "file": "model.skops"}),
    ".onnx": ("onnx", "", {}),
    ".json": ("json", "", {}),
    ".npy": ("numpy", "", {}),
}
_LOCAL_FORMAT = "modelops-local-model/"


@attrs.frozen
class ServedVersion:
    """A version ready to answer.

    :param model: the registered name.
    :param version: the version text.
    :param flavor: the flavor that loaded it, or ``provider:<name>`` for a provider model.
    :param predict: a function of a batch of inputs (a list, an array, columns) to a batch
        of outputs.
    :param model_id: the provider's model id (provider models only).
    :param stream: ``stream(text) -> iterator of text pieces`` when the provider streams.
    :param inputs: the recorded input schema (a dict) when known.
    :param outputs: the recorded output schema when known.
    """

    model: str
    version: str
    flavor: str
    predict: Callable[[Any], Any] = attrs.field(repr=False)
    model_id: str | None = None
    stream: Callable[[str], Any] | None = attrs.field(default=None, repr=False)
    inputs: Mapping[str, Any] | None = None
    outputs: Mapping[str, Any] | None = None

    @property
    def provider(self) -> bool:
        return self.flavor.startswith("provider:")


def load_version(registry: ModelRegistry, record: ModelVersion) -> ServedVersion:
    """``record`` loaded for serving (see the module docstring); :class:`ModelLoadError`
    says why it cannot be, naming the model and version."""
    where = f"{record.name} {record.version}"
    try:
        return _load(registry, record)
    except ModelLoadError:
        raise
    except Exception as exc:
        raise ModelLoadError(
            f"{where} failed to load: {type(exc).__name__}: {mask_urls_in(str(exc))}"
        ) from exc


def _load(registry: ModelRegistry, record: ModelVersion) -> ServedVersion:
    from modelops_core.flavors.resolve import METADATA_KEY

    stored = record.metadata.get(METADATA_KEY)
    schemas = stored if isinstance(stored, Mapping) else {}
    if record.serializer:
        loaded = registry.load(record.name, record.version)
        if callable(getattr(loaded, "predict", None)):
            return ServedVersion(
                record.name, record.version, record.serializer, loaded.predict,
                inputs=schemas.get("input"), outputs=schemas.get("output"),
            )  # fmt: skip
        tuned = _tuned(loaded, record)
        if tuned is not None:
            return _provider_version(registry.runtime, record, *tuned)
        raise ModelLoadError(
            f"{record.name} {record.version} is stored with the {record.serializer!r} flavor as "
            f"a {type(loaded).__name__}, which has no predict() and records no provider model. "
            "Register a model that predicts (an estimator, an ONNX model, the local "
            "provider's model) or {'model_id': ..., 'provider': ...} of a tuned model."
        )
    path = Path(registry.get_model(record.name, record.version))
    opened = _open_path(registry, path, record)
    if opened is not None:
        return opened
    tuned = _tuned(None, record)
    if tuned is not None:
        return _provider_version(registry.runtime, record, *tuned)
    raise ModelLoadError(
        f"{record.name} {record.version} is the file or folder {path.name!r}, which no model "
        "flavor opens: serving opens a local provider model folder, *.skops, *.onnx, *.json "
        "and *.npy files. Register the model object with its flavor instead "
        "(registry.register(name, model=estimator)), or a tuned model's id."
    )


def _open_path(registry: ModelRegistry, path: Path, record: ModelVersion) -> ServedVersion | None:
    flavors = registry.flavors
    if path.is_dir():
        config = path / "config.json"
        try:
            described = json.loads(config.read_text(encoding="utf-8")) if config.is_file() else {}
        except (OSError, ValueError) as exc:
            raise ModelLoadError(
                f"{record.name} {record.version}: {config.name} in its folder is unreadable "
                f"({exc}); the artifact is damaged, register the model again."
            ) from exc
        if not str(described.get("format", "")).startswith(_LOCAL_FORMAT):
            return None
        flavor = flavors.named("local", purpose=f"to open {record.name} {record.version}")
        loaded = _load_linked(flavor, path, "model", {})
        return ServedVersion(record.name, record.version, "local", loaded.predict,
                             inputs={"kind": "tensor", "dtype": "str"})  # fmt: skip
    chosen = _FILE_FLAVORS.get(path.suffix.lower())
    if chosen is None:
        return None
    name, link, details = chosen
    flavor = flavors.named(name, purpose=f"to open {record.name} {record.version}")
    if callable(getattr(flavor, "loads", None)):
        loaded = flavor.loads(path.read_bytes())
    else:
        loaded = _load_linked(flavor, path, link, details)
    from modelops_core.flavors.resolve import wrap

    wrapped = wrap(loaded, flavor, None, f"{record.name}:{record.version}")
    if not callable(getattr(wrapped, "predict", None)):
        return None
    return ServedVersion(record.name, record.version, name, wrapped.predict)


def _load_linked(flavor: Any, source: Path, link: str, details: dict[str, Any]) -> Any:
    """``flavor.load`` on a folder where ``link`` points at ``source`` (a path flavor reads
    its own file name; the registered artifact keeps the name it was registered with)."""
    with tempfile.TemporaryDirectory(prefix="modelops-serve-") as folder:
        os.symlink(source, Path(folder) / link)
        return flavor.load(Path(folder), details)


def _tuned(loaded: Any, record: ModelVersion) -> tuple[str, str | None] | None:
    """``(model id, provider)`` a version records, or None."""
    if isinstance(loaded, Mapping) and isinstance(loaded.get("model_id"), str):
        provider = loaded.get("provider")
        return loaded["model_id"], provider if isinstance(provider, str) else _provider_of(record)
    for source in (record.metadata, record.lineage, record.tags):
        for key in ("fine_tuned_model", "model_id"):
            value = source.get(key)
            if isinstance(value, str) and value:
                return value, _provider_of(record)
    return None


def _provider_of(record: ModelVersion) -> str | None:
    for source in (record.lineage, record.metadata, record.tags):
        value = source.get("provider")
        if isinstance(value, str) and value:
            return value
    return None


def _provider_version(
    runtime: Runtime, record: ModelVersion, model_id: str, provider: str | None
) -> ServedVersion:
    from modelops_core.plugins.kinds import Kind

    if provider is None:
        from modelops_core.finetune.job import infer_provider

        provider = infer_provider(model_id, runtime.config, runtime)
    component = runtime.create(Kind.PROVIDER, runtime.config.provider(provider))

    def predict(batch: Any) -> list[Any]:
        return list(component.predict(model_id, list(batch)))

    stream = getattr(component, "stream", None)
    streamer = None
    if callable(stream):

        def streamer(text: str) -> Any:
            return stream(model_id, text)

    return ServedVersion(
        record.name, record.version, f"provider:{provider}", predict, model_id=model_id,
        stream=streamer,
    )  # fmt: skip


class ModelLoader:
    """Loads versions on one background thread (with its own registry), each once.

    :param runtime: the runtime whose registry and plugins to use.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="modelops-model-loader"
        )
        self._futures: dict[tuple[str, str], concurrent.futures.Future[ServedVersion]] = {}
        self._lock = threading.Lock()
        self._registry: ModelRegistry | None = None

    def _registry_of_thread(self) -> ModelRegistry:
        if self._registry is None:
            from modelops_core.registry.model_registry import ModelRegistry

            self._registry = ModelRegistry(self.runtime)
        return self._registry

    def load(self, name: str, version: str) -> concurrent.futures.Future[ServedVersion]:
        """The future of ``name``/``version`` loaded (started on the first call)."""
        key = (name, version)
        with self._lock:
            future = self._futures.get(key)
            if future is None:
                future = self._executor.submit(self._load, name, version)
                self._futures[key] = future
            return future

    def _load(self, name: str, version: str) -> ServedVersion:
        registry = self._registry_of_thread()
        try:
            record = registry.get_version(name, version)
        except Exception as exc:
            raise ModelLoadError(
                f"{name} {version} cannot be read from the registry: {mask_urls_in(str(exc))}"
            ) from exc
        return load_version(registry, record)

    def ready(self, name: str, version: str) -> ServedVersion | None:
        """The loaded version, or None while it loads or after it failed."""
        future = self._futures.get((name, version))
        if future is None or not future.done() or future.exception() is not None:
            return None
        return future.result()

    def states(self) -> dict[str, str]:
        """``name/version`` -> ``ready``, ``loading`` or ``failed: <why>``."""
        with self._lock:
            items = list(self._futures.items())
        states = {}
        for (name, version), future in sorted(items):
            if not future.done():
                states[f"{name}/{version}"] = "loading"
            elif future.exception() is not None:
                states[f"{name}/{version}"] = f"failed: {future.exception()}"
            else:
                states[f"{name}/{version}"] = "ready"
        return states

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._registry is not None:
            registry, self._registry = self._registry, None
            with contextlib.suppress(Exception):
                registry.close()
