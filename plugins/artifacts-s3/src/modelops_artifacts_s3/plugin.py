"""The ``modelops-artifacts-s3`` plugin: declares the artifact store ``s3``.

Importing this module does not import boto3; the store is built only when a configuration
chooses it (``[artifacts] store = "s3"``).
"""

from __future__ import annotations

from modelops_core import hookimpl
from modelops_core.plugins.components import ComponentRegistrar


@hookimpl
def modelops_register_artifact_stores(registry: ComponentRegistrar) -> None:
    registry.add(
        "s3",
        "modelops_artifacts_s3.store:S3ArtifactStore",
        description="content-addressed (sha256) on S3 / MinIO (bucket = ..., endpoint_url = ...)",
    )
