"""The s3 store passes the artifact store contract against a moto server, plus its own checks."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from modelops_artifacts_s3 import plugin
from modelops_artifacts_s3.store import S3ArtifactStore

from modelops_core.config import ComponentChoice, Config
from modelops_core.registry.model_registry import ModelRegistry
from modelops_core.store.contract import (
    ArtifactCorruptedError,
    ArtifactRef,
    StoreConnectionError,
    UnsafeArtifactNameError,
)
from modelops_core.testing import (
    ArtifactStoreContract,
    fresh_postgres_schema,
    make_runtime,
    packages_imported_by,
    postgres_url_or_skip,
)

SECRET = "testing-secret"


def new_store(endpoint: str, bucket: str, home: Path, **options: Any) -> S3ArtifactStore:
    return S3ArtifactStore(
        home=str(home), bucket=bucket, endpoint_url=endpoint, region="us-east-1",
        access_key_id="testing-key", secret_access_key=SECRET, **options,
    )  # fmt: skip


class TestS3ArtifactStore(ArtifactStoreContract):
    plugin = plugin
    component_name = "s3"
    distribution = "modelops-artifacts-s3"

    @pytest.fixture(autouse=True)
    def _server(
        self, s3_endpoint: str, bucket: str, raw_s3: Any, credentials: dict[str, str]
    ) -> None:
        self.endpoint = s3_endpoint
        self.bucket = bucket
        self.raw_s3 = raw_s3
        self.credentials = credentials

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        return {
            "home": str(tmp_path / ".modelops"),
            "bucket": self.bucket,
            "endpoint_url": self.endpoint,
            "region": "us-east-1",
            **self.credentials,
        }

    def corrupt(self, component: Any, ref: Any) -> None:
        self.raw_s3.put_object(Bucket=self.bucket, Key=component._key(ref.digest[7:]), Body=b"x")


def test_blobs_are_keyed_by_sha256_under_the_prefix(
    s3_endpoint: str, bucket: str, raw_s3: Any, tmp_path: Path
) -> None:
    store = new_store(s3_endpoint, bucket, tmp_path, prefix="team-a")
    ref = store.put_bytes(b"abc")
    digest = hashlib.sha256(b"abc").hexdigest()
    keys = [o["Key"] for o in raw_s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [f"team-a/blobs/{digest[:2]}/{digest}"]
    assert ref.digest == f"sha256:{digest}"
    store.close()


def test_identical_content_is_uploaded_once(
    s3_endpoint: str, bucket: str, raw_s3: Any, tmp_path: Path
) -> None:
    store = new_store(s3_endpoint, bucket, tmp_path)
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "a.bin").write_bytes(b"same")
    (folder / "b.bin").write_bytes(b"same")
    store.put_path(folder)
    store.put_bytes(b"same")
    keys = [o["Key"] for o in raw_s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert len(keys) == 2  # the content once, and the folder's manifest
    store.close()


def test_large_files_are_uploaded_in_parts_and_verified(
    s3_endpoint: str, bucket: str, raw_s3: Any, tmp_path: Path
) -> None:
    store = new_store(
        s3_endpoint, bucket, tmp_path, multipart_threshold_mb=5, multipart_chunksize_mb=5
    )
    source = tmp_path / "weights.bin"
    source.write_bytes(os.urandom((5 << 20) + 1000))
    ref = store.put_path(source)
    head = raw_s3.head_object(Bucket=bucket, Key=store._key(ref.digest[7:]))
    assert head["ETag"].strip('"').endswith("-2")  # a multipart upload of two parts
    assert store.local_path(ref).read_bytes() == source.read_bytes()
    store.close()


def test_a_modified_cached_copy_is_downloaded_again(
    s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    store = new_store(s3_endpoint, bucket, tmp_path)
    source = tmp_path / "model.bin"
    source.write_bytes(b"original")
    ref = store.put_path(source)
    cached = store.local_path(ref)
    cached.write_bytes(b"tampered")
    assert store.local_path(ref).read_bytes() == b"original"
    store.close()


def test_a_corrupted_member_of_a_folder_is_refused(
    s3_endpoint: str, bucket: str, raw_s3: Any, tmp_path: Path
) -> None:
    store = new_store(s3_endpoint, bucket, tmp_path)
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    ref = store.put_path(folder)
    member = hashlib.sha256(b"{}").hexdigest()
    raw_s3.put_object(Bucket=bucket, Key=store._key(member), Body=b"[]")
    with pytest.raises(ArtifactCorruptedError, match="config.json"):
        store.local_path(ref)
    store.close()


def test_an_unreachable_server_is_named_with_the_config_key(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = new_store(
        f"http://minio:s3cret@127.0.0.1:{port}", "models", tmp_path, connect_timeout=1, retries=1
    )
    with pytest.raises(StoreConnectionError) as caught:
        store.put_bytes(b"x")
    message = str(caught.value)
    assert f"http://minio:***@127.0.0.1:{port}" in message
    assert "[artifacts] endpoint_url" in message
    assert "s3cret" not in message and SECRET not in message
    assert "s3cret" not in repr(store)


def test_a_missing_bucket_says_how_to_fix_it(s3_endpoint: str, tmp_path: Path) -> None:
    store = new_store(s3_endpoint, "no-such-bucket-here", tmp_path)
    with pytest.raises(StoreConnectionError, match=r"no-such-bucket-here.*create_bucket = true"):
        store.put_bytes(b"x")
    created = new_store(s3_endpoint, "made-on-demand", tmp_path, create_bucket=True)
    assert created.get_bytes(created.put_bytes(b"x")) == b"x"
    created.close()


def test_a_bad_digest_cannot_name_another_key(
    s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    store = new_store(s3_endpoint, bucket, tmp_path)
    with pytest.raises(Exception, match="Invalid artifact digest"):
        store.get_bytes(ArtifactRef("sha256:../../secrets", "file", 1))


def test_importing_the_plugin_does_not_import_boto3() -> None:
    assert "boto3" not in packages_imported_by("import modelops_artifacts_s3.plugin")


# --- a version row's artifact name never leads a cached copy out of the cache ------------------

store_plugin = pytest.importorskip(
    "modelops_store_sql.plugin", reason="modelops-store-sql is not installed"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def registry_options(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """The ``[registry]`` options: SQLite under home, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield {}
        return
    url = postgres_url_or_skip()
    with fresh_postgres_schema(url, prefix="modelops_s3") as schema:
        yield {"url": url, "schema": schema}


def set_artifact_names(home: Path, options: dict[str, Any], name: str) -> None:
    """Write ``name`` into every version row with plain SQL, behind the registry's back."""
    if not options:
        with sqlite3.connect(home / "modelops.db") as connection:
            connection.execute("UPDATE versions SET artifact_name = ?", (name,))
        connection.close()
        return
    import psycopg

    with psycopg.connect(options["url"], autocommit=True) as connection:
        connection.execute(f'UPDATE "{options["schema"]}".versions SET artifact_name = %s', (name,))


@pytest.mark.parametrize("hostile", ["../../outside", "{tmp}/absolute", "a/../../b"])
def test_a_hostile_artifact_name_in_a_version_row_is_refused(
    s3_endpoint: str,
    bucket: str,
    credentials: dict[str, str],
    registry_options: dict[str, Any],
    tmp_path: Path,
    hostile: str,
) -> None:
    home = tmp_path / ".modelops"
    config = Config(
        home=home,
        registry=ComponentChoice("sql", registry_options),
        artifacts=ComponentChoice(
            "s3",
            {"bucket": bucket, "endpoint_url": s3_endpoint, "region": "us-east-1", **credentials},
            reserved=("store",),
        ),
    )
    plugins = [("modelops-store-sql", store_plugin), ("modelops-artifacts-s3", plugin)]
    source = tmp_path / "model"
    source.mkdir()
    (source / "weights.bin").write_bytes(b"w")
    victim = tmp_path / "outside"
    victim.mkdir()
    (victim / "keep.txt").write_text("precious")
    with ModelRegistry(make_runtime(home, plugins, config=config)) as registry:
        registry.register("churn", "1", model_path=source)
    bad_name = hostile.format(tmp=tmp_path)
    set_artifact_names(home, registry_options, bad_name)
    before = sorted(os.walk(tmp_path))
    with ModelRegistry(make_runtime(home, plugins, config=config)) as registry:
        with pytest.raises(UnsafeArtifactNameError) as refused:
            registry.get_model("churn", "1")
        assert f"{bad_name!r} of model 'churn' version 1" in str(refused.value)
        with pytest.raises(UnsafeArtifactNameError, match="of model 'churn' version 1"):
            registry.load("churn", "1")
    assert sorted(os.walk(tmp_path)) == before  # nothing written or removed anywhere
    assert (victim / "keep.txt").read_text() == "precious"
