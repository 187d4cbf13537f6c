"""Which version answers: the routes of the served models, re-read in the background.

Every ``[serving] poll_interval`` seconds (0.5 by default) a thread reads the registry's models
and aliases and the traffic table, asks the loader for every version an alias points to (a
version asked for as ``NAME/VERSION`` loads on its first request), and swaps in a new
:class:`Routes` snapshot. Requests only read the snapshot: no I/O and no lock on the request
path. A damaged traffic row keeps the model's last good split (and the problem shows in
readiness and on stderr).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from modelops_core.config import mask_urls_in
from modelops_core.serving.traffic import TrafficSplit, TrafficTable

if TYPE_CHECKING:
    from modelops_core.runtime import Runtime
    from modelops_core.serving.models import ModelLoader
    from modelops_core.serving.settings import ServingSettings

__all__ = ["Route", "Router", "Routes"]


@attrs.frozen
class Route:
    """One model: its split and where each alias points."""

    model: str
    split: TrafficSplit
    aliases: Mapping[str, str]  # alias -> version
    versions: tuple[str, ...]  # every version, in registry order


@attrs.frozen
class Routes:
    """A snapshot of every served model's route, and what is wrong with any of them."""

    models: Mapping[str, Route] = attrs.field(factory=dict)
    problems: Mapping[str, str] = attrs.field(factory=dict)
    read: bool = False  # False until the first read finished


class Router:
    """Keeps :attr:`routes` current (see the module docstring).

    :param models: the model names to serve (default: every registered model).
    """

    def __init__(
        self,
        runtime: Runtime,
        settings: ServingSettings,
        loader: ModelLoader,
        models: Sequence[str] = (),
    ) -> None:
        self.runtime = runtime
        self.settings = settings
        self.loader = loader
        self.only = tuple(models)
        self.routes = Routes()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reported: dict[str, str] = {}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="modelops-router", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        from modelops_core.registry.model_registry import ModelRegistry
        from modelops_core.serving.database import ServingDatabase

        registry = ModelRegistry(self.runtime)
        table = TrafficTable(database=ServingDatabase(self.settings.database, self.settings.schema))
        try:
            while True:
                try:
                    self.routes = self.refresh(registry, table)
                except Exception as exc:  # keep the last routes; say why, once per message
                    self._report("routes", f"cannot read the routes: {exc}")
                if self._stop.wait(self.settings.poll_interval):
                    break
        finally:
            table.close()
            registry.close()

    def _report(self, key: str, message: str) -> None:
        message = mask_urls_in(message)
        if self._reported.get(key) != message:
            self._reported[key] = message
            print(f"modelops serve: {message}", file=sys.stderr)

    def refresh(self, registry: object, table: TrafficTable) -> Routes:
        """Read the registry and the traffic table once; start loading what they name."""
        from modelops_core.registry.model_registry import ModelRegistry

        assert isinstance(registry, ModelRegistry)
        names = list(self.only) if self.only else registry.list_models()
        stored = table.all()
        previous = self.routes.models
        models: dict[str, Route] = {}
        problems: dict[str, str] = {}
        for name in names:
            try:
                aliases = registry.aliases(name)
                versions = tuple(registry.list_versions(name))
            except Exception as exc:
                problems[name] = f"cannot be read from the registry: {mask_urls_in(str(exc))}"
                if name in previous:
                    models[name] = previous[name]
                continue
            found = stored.get(name)
            if isinstance(found, Exception):
                problems[name] = str(found)
                self._report(f"traffic:{name}", f"{found} (keeping the last good split)")
                split = previous[name].split if name in previous else TrafficSplit.default(name)
            else:
                split = found if found is not None else TrafficSplit.default(name)
            missing = [alias for alias in split.aliases() if alias not in aliases]
            if missing and (found is not None or aliases):  # a stored split, or aliases exist
                problems[name] = (
                    f"the traffic split names {', '.join(missing)}, which {name} has no alias "
                    f"for (aliases: {', '.join(sorted(aliases)) or 'none'})"
                )
            for version in sorted(set(aliases.values())):  # every aliased version, once
                self.loader.load(name, version)
            models[name] = Route(name, split, dict(aliases), versions)
        return Routes(models, problems, read=True)
