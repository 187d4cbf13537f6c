"""The ``modelops-artifacts-local`` plugin: declares the artifact store ``local``."""

from __future__ import annotations

from modelops_core import hookimpl
from modelops_core.plugins.components import ComponentRegistrar


@hookimpl
def modelops_register_artifact_stores(registry: ComponentRegistrar) -> None:
    registry.add(
        "local",
        "modelops_artifacts_local.store:LocalArtifactStore",
        description="content-addressed (sha256) files under <home>/artifacts, verified on load",
    )
