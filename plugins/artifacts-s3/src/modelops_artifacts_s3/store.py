"""A content-addressed artifact store on S3 or an S3-compatible server (MinIO, Ceph …).

Layout in ``bucket`` under ``prefix``::

    blobs/ab/ab12…   object contents, keyed by their sha256

An object only becomes visible once its upload is complete (S3 publishes a multipart upload
on ``CompleteMultipartUpload``), so a killed process never leaves a partial blob. A folder is
stored as its files' blobs plus a manifest blob, exactly as in the ``local`` store, so digests
are the same in both. Every read downloads to a temporary file, hashes it and raises
:class:`ArtifactCorruptedError` on a mismatch; verified copies are kept under ``cache``
(default ``<home>/s3-cache``) for :meth:`local_path`: copies, never shared with the bucket,
named after the artifact only once :func:`~modelops_core.store.contract.artifact_name` accepts the
name, so a damaged row cannot place them outside the cache. Symbolic links are refused when
storing, never followed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any

from modelops_core.config import mask_url, mask_urls_in
from modelops_core.store.contract import (
    ArtifactCorruptedError,
    ArtifactError,
    ArtifactNotFoundError,
    ArtifactRef,
    StoreConnectionError,
    artifact_hex,
    artifact_name,
    decode_tree_manifest,
    link_refused,
    put_tree,
    safe_artifact_name,
    stored_file_name,
)

_CHUNK = 1 << 20
_MIB = 1 << 20


class S3ArtifactStore:
    """Store files and folders in an S3 bucket by sha256; identical content is stored once.

    :param home: the modelops home directory (given by the facades).
    :param bucket: the bucket (must exist unless ``create_bucket``).
    :param prefix: key prefix inside the bucket (e.g. ``"team-a/"``).
    :param endpoint_url: an S3-compatible server (``http://127.0.0.1:9000`` for MinIO);
        default: AWS S3 for ``region``.
    :param region: the AWS region (default: boto3's configuration).
    :param access_key_id: credentials; default: boto3's chain (environment, profile, role).
        Use ``{ env = "…" }`` in the config rather than writing secrets into it.
    :param secret_access_key: see ``access_key_id``.
    :param session_token: temporary credentials' token.
    :param profile: a profile of ``~/.aws/config``.
    :param create_bucket: create the bucket when it does not exist.
    :param cache: where verified downloads are kept (default ``<home>/s3-cache``).
    :param multipart_threshold_mb: files larger than this are uploaded in parts, in parallel.
    :param multipart_chunksize_mb: the part size (S3's minimum is 5 MiB).
    :param max_concurrency: parallel part uploads / downloads per file.
    :param connect_timeout: seconds to wait for the server.
    :param retries: attempts per request (botocore's "standard" retry mode).
    """

    def __init__(
        self,
        home: str = ".modelops",
        bucket: str = "",
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
        profile: str | None = None,
        create_bucket: bool = False,
        cache: str | None = None,
        multipart_threshold_mb: float = 64,
        multipart_chunksize_mb: float = 16,
        max_concurrency: int = 8,
        connect_timeout: float = 5.0,
        retries: int = 3,
    ) -> None:
        if not bucket:
            raise ValueError(
                "the s3 artifact store needs a bucket: set bucket = '<name>' in [artifacts]"
            )
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint_url = endpoint_url
        self.region = region
        self.create_bucket = create_bucket
        self.cache = Path(cache) if cache is not None else Path(home) / "s3-cache"
        self._credentials = {
            "aws_access_key_id": access_key_id,
            "aws_secret_access_key": secret_access_key,
            "aws_session_token": session_token,
        }
        self._profile = profile
        self._multipart_threshold = int(multipart_threshold_mb * _MIB)
        self._multipart_chunksize = int(multipart_chunksize_mb * _MIB)
        self._max_concurrency = max_concurrency
        self._connect_timeout = connect_timeout
        self._retries = retries
        self._client: Any = None
        self._transfer: Any = None

    def __repr__(self) -> str:
        return f"S3ArtifactStore({self.location!r})"

    @property
    def location(self) -> str:
        """``s3://bucket/prefix`` and the server, credentials masked."""
        server = f" at {mask_url(self.endpoint_url)}" if self.endpoint_url else ""
        return f"s3://{self.bucket}/{self.prefix}{server}"

    def close(self) -> None:
        """Release the HTTP connections."""
        if self._client is not None:
            self._client.close()
            self._client = None

    # --- connection ----------------------------------------------------------------------------

    def _s3(self) -> Any:
        if self._client is None:
            # boto3 and botocore have no type hints (boto3-stubs is not a dependency): Any
            import boto3  # type: ignore[import-untyped,unused-ignore]
            import botocore.config  # type: ignore[import-untyped,unused-ignore]
            from boto3.s3.transfer import TransferConfig  # type: ignore[import-untyped,unused-ignore]

            session = boto3.session.Session(profile_name=self._profile, region_name=self.region)
            config = botocore.config.Config(
                connect_timeout=self._connect_timeout,
                read_timeout=max(30.0, self._connect_timeout),
                retries={"max_attempts": self._retries, "mode": "standard"},
                max_pool_connections=max(10, self._max_concurrency),
            )
            client = session.client(
                "s3",
                endpoint_url=self.endpoint_url,
                config=config,
                **{k: v for k, v in self._credentials.items() if v is not None},
            )
            self._transfer = TransferConfig(
                multipart_threshold=self._multipart_threshold,
                multipart_chunksize=self._multipart_chunksize,
                max_concurrency=self._max_concurrency,
            )
            self._client = client
            try:
                self._check_bucket()
            except BaseException:
                self.close()
                raise
        return self._client

    def _check_bucket(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except Exception as exc:
            if _error_code(exc) in ("404", "NoSuchBucket") and self.create_bucket:
                self._call(self._client.create_bucket, "create the bucket", Bucket=self.bucket)
                return
            raise self._translate(exc, "open the bucket") from None

    def _call(self, method: Any, what: str, **kwargs: Any) -> Any:
        try:
            return method(**kwargs)
        except Exception as exc:
            raise self._translate(exc, what) from None

    def _translate(self, exc: Exception, what: str) -> Exception:
        """A botocore error as a modelops error naming the URL, the config key and the fix."""
        from botocore import exceptions

        code = _error_code(exc)
        if isinstance(exc, exceptions.EndpointConnectionError | exceptions.ConnectTimeoutError):
            server = mask_url(self.endpoint_url) if self.endpoint_url else "AWS S3"
            return StoreConnectionError(
                f"Cannot {what} in {self.location}: the S3 server {server} cannot be reached "
                f"({type(exc).__name__}). Check [artifacts] endpoint_url in modelops.toml and "
                "that the server runs."
            )
        if isinstance(exc, exceptions.NoCredentialsError | exceptions.PartialCredentialsError):
            return StoreConnectionError(
                f"Cannot {what} in {self.location}: no S3 credentials. Set [artifacts] "
                "access_key_id / secret_access_key (e.g. "
                '{ env = "AWS_SECRET_ACCESS_KEY" } in the TOML), profile, or the AWS_* '
                "environment variables."
            )
        if code in ("404", "NoSuchBucket"):
            return StoreConnectionError(
                f"Cannot {what}: the bucket {self.bucket!r} does not exist at "
                f"{self.location}. Create it, fix [artifacts] bucket, or set "
                "create_bucket = true."
            )
        if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            return StoreConnectionError(
                f"Cannot {what} in {self.location}: access denied ({code}). Check the "
                "credentials ([artifacts] access_key_id / secret_access_key or profile) and "
                "the bucket policy."
            )
        message = mask_urls_in(str(exc))
        return ArtifactError(f"Cannot {what} in {self.location}: {message}")

    # --- writing -------------------------------------------------------------------------------

    def _key(self, digest: str) -> str:
        return f"{self.prefix}blobs/{digest[:2]}/{digest}"

    def put_bytes(self, data: bytes, name: str = "") -> ArtifactRef:
        """Store ``data`` as a file artifact named ``name``."""
        digest = hashlib.sha256(data).hexdigest()
        if not self._has(digest):
            self._call(
                self._s3().put_object,
                f"store the artifact sha256:{digest}",
                Bucket=self.bucket,
                Key=self._key(digest),
                Body=data,
            )
        return ArtifactRef(f"sha256:{digest}", "file", len(data), safe_artifact_name(name))

    def put_path(self, path: Path | str) -> ArtifactRef:
        """Store the file or folder at ``path`` (large files in parts).

        A symbolic link is refused (:class:`ArtifactLinkError`), never followed, and so is a
        name with a ``\\`` in it (:class:`UnsafeArtifactNameError`).
        """
        source = Path(path)
        try:
            mode = os.lstat(source).st_mode
        except (OSError, ValueError):
            mode = 0
        if stat.S_ISLNK(mode):
            raise link_refused(source)
        if stat.S_ISREG(mode):
            name = stored_file_name(source)
            digest, size = self._put_file(source)
            return ArtifactRef(f"sha256:{digest}", "file", size, name)
        if stat.S_ISDIR(mode):
            return self._put_tree(source)
        if mode:
            raise ArtifactError(
                f"Cannot store the artifact {str(path)!r}: it is a special file (a pipe, socket "
                "or device), not a file or folder. Copy what it holds into a file first."
            )
        raise ArtifactNotFoundError(
            f"Cannot store the artifact {str(path)!r}: no such file or folder. "
            "Check the path (it is taken relative to the working directory)."
        )

    def _put_file(self, source: Path) -> tuple[str, int]:
        try:
            digest, size = _sha256_file(source)
        except OSError as exc:
            raise ArtifactError(
                f"Cannot read {str(source)!r}: {exc.strerror or exc}. Check its permissions."
            ) from exc
        if not self._has(digest):
            client = self._s3()
            self._call(
                client.upload_file,
                f"upload {str(source)!r}",
                Filename=str(source),
                Bucket=self.bucket,
                Key=self._key(digest),
                Config=self._transfer,
            )
        return digest, size

    def _put_tree(self, folder: Path) -> ArtifactRef:
        return put_tree(folder, self._put_file, self.put_bytes)

    def _has(self, digest: str) -> bool:
        client = self._s3()
        try:
            client.head_object(Bucket=self.bucket, Key=self._key(digest))
        except Exception as exc:
            if _error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise self._translate(exc, f"look up the artifact sha256:{digest}") from None
        return True

    # --- reading -------------------------------------------------------------------------------

    def exists(self, ref: ArtifactRef) -> bool:
        """Whether the artifact's object is stored (its content is not verified)."""
        return self._has(artifact_hex(ref))

    def get_bytes(self, ref: ArtifactRef) -> bytes:
        """The verified content of a file artifact."""
        if ref.kind != "file":
            raise ArtifactError(
                f"The artifact {ref.digest} is a folder; use local_path() to get its files."
            )
        digest = artifact_hex(ref)
        if ref.size > self._multipart_threshold:
            return self._download_verified(digest, ref).read_bytes()
        body = self._get_object(digest, ref)
        actual = hashlib.sha256(body).hexdigest()
        if actual != digest:
            raise self._corrupted(ref, actual)
        return body

    def local_path(self, ref: ArtifactRef) -> Path:
        """A verified local file (named ``ref.name``) or folder with the artifact's content."""
        digest = artifact_hex(ref)
        default = "artifact" if ref.kind == "file" else "tree"
        target = self.cache / "checkouts" / digest / (artifact_name(ref) or default)
        if ref.kind == "file":
            if _is_regular_file(target) and _sha256_file(target)[0] == digest:
                self._require(digest, ref)
                return target
            if os.path.islink(target) or os.path.isdir(target):
                _remove(target)
            self._install(self._download_verified(digest, ref), target)
            return target
        manifest = decode_tree_manifest(self.get_bytes(_as_file(ref)), ref.digest)
        if _holds_exactly(target, {relative: d[7:] for relative, d, _ in manifest}):
            return target
        staging = Path(tempfile.mkdtemp(dir=self._tmp()))
        try:
            for relative, file_digest, size in manifest:
                member = ArtifactRef(file_digest, "file", size, relative)
                destination = staging / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                os.replace(self._download_verified(artifact_hex(member), member), destination)
            _remove(target)  # a stale or modified copy (a link itself, never what it points to)
            self._install(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return target

    def delete(self, ref: ArtifactRef) -> None:
        """Remove the artifact's object and cached copy (blobs of a folder's files are kept)."""
        digest = artifact_hex(ref)
        self._call(
            self._s3().delete_object,
            f"delete the artifact {ref.digest}",
            Bucket=self.bucket,
            Key=self._key(digest),
        )
        shutil.rmtree(self.cache / "checkouts" / digest, ignore_errors=True)

    def _require(self, digest: str, ref: ArtifactRef) -> None:
        """A cached copy is only handed out while the artifact is still in the bucket."""
        if not self._has(digest):
            raise self._missing(ref)

    def _get_object(self, digest: str, ref: ArtifactRef) -> bytes:
        client = self._s3()
        try:
            response = client.get_object(Bucket=self.bucket, Key=self._key(digest))
            return bytes(response["Body"].read())
        except Exception as exc:
            if _error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                raise self._missing(ref) from None
            raise self._translate(exc, f"read the artifact {ref.digest}") from None

    def _download_verified(self, digest: str, ref: ArtifactRef) -> Path:
        """Download to a temporary file, check its sha256, return it (the caller moves it)."""
        client = self._s3()
        fd, temp = tempfile.mkstemp(dir=self._tmp())
        os.close(fd)
        try:
            client.download_file(
                Bucket=self.bucket, Key=self._key(digest), Filename=temp, Config=self._transfer
            )
            actual, _ = _sha256_file(Path(temp))
        except Exception as exc:
            Path(temp).unlink(missing_ok=True)
            if _error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                raise self._missing(ref) from None
            raise self._translate(exc, f"download the artifact {ref.digest}") from None
        if actual != digest:
            Path(temp).unlink(missing_ok=True)
            raise self._corrupted(ref, actual)
        return Path(temp)

    def _install(self, built: Path, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(built, target)
        except OSError:  # another process put it there first; theirs is as good
            if not target.exists():
                raise

    def _tmp(self) -> Path:
        folder = self.cache / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _missing(self, ref: ArtifactRef) -> ArtifactNotFoundError:
        return ArtifactNotFoundError(
            f"The artifact {ref.digest} ({ref.name or ref.kind}) is missing from "
            f"{self.location}. It was deleted, or [artifacts] bucket / prefix point elsewhere; "
            "register the model again or fix the configuration."
        )

    def _corrupted(self, ref: ArtifactRef, actual: str) -> ArtifactCorruptedError:
        return ArtifactCorruptedError(
            f"The artifact {ref.digest} ({ref.name or ref.kind}) is corrupted: the object "
            f"{self._key(artifact_hex(ref))} in {self.location} hashes to sha256:{actual}. "
            "It is not returned. Restore the object from a backup or register the model again."
        )


def _is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _holds_exactly(folder: Path, entries: dict[str, str]) -> bool:
    """Whether the cached folder holds the files of ``entries`` (relative path -> sha256)
    with that content, and nothing else (no extra file, no link)."""
    if os.path.islink(folder) or not folder.is_dir():
        return False
    found: set[str] = set()
    for current, dirs, names in os.walk(folder):
        for name in [*dirs, *names]:
            if os.path.islink(os.path.join(current, name)):
                return False
        for name in names:
            found.add(Path(current, name).relative_to(folder).as_posix())
    if found != entries.keys():
        return False
    return all(_sha256_file(folder / relative)[0] == digest for relative, digest in entries.items())


def _remove(path: Path) -> None:
    """Remove the file, link or folder ``path`` (a link itself, never what it points to)."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _as_file(ref: ArtifactRef) -> ArtifactRef:
    return ArtifactRef(ref.digest, "file", 0, ref.name)


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _sha256_file(path: Path) -> tuple[str, int]:
    hasher = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            hasher.update(chunk)
            size += len(chunk)
    return hasher.hexdigest(), size
