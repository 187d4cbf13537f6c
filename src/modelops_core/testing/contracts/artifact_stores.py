"""The contract suite of artifact stores (``modelops_register_artifact_stores``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelops_core.plugins.kinds import Kind
from modelops_core.testing.contracts.base import ComponentContract


class ArtifactStoreContract(ComponentContract):
    """The artifact store suite: round trips, deduplication, verification on load.

    Override :meth:`corrupt` so the suite can check that damaged content is refused.
    """

    kind = Kind.ARTIFACT_STORE

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        """``home`` under ``tmp_path``; override to add a bucket or other options."""
        return {"home": str(tmp_path / ".modelops")}

    def corrupt(self, component: Any, ref: Any) -> None:
        """Change the stored bytes of ``ref`` behind the store's back (override per store)."""
        raise NotImplementedError

    def test_component_is_an_artifact_store(self, component: Any) -> None:
        from modelops_core.store.contract import ArtifactStore

        assert isinstance(component, ArtifactStore)

    def test_bytes_round_trip_under_their_sha256(self, component: Any) -> None:
        import hashlib

        ref = component.put_bytes(b"weights", name="w.bin")
        assert ref.digest == "sha256:" + hashlib.sha256(b"weights").hexdigest()
        assert (ref.kind, ref.size, ref.name) == ("file", 7, "w.bin")
        assert component.get_bytes(ref) == b"weights"
        assert component.exists(ref)

    def test_identical_content_is_stored_once(self, component: Any, tmp_path: Path) -> None:
        first, second = tmp_path / "a.bin", tmp_path / "b.bin"
        first.write_bytes(b"same")
        second.write_bytes(b"same")
        assert component.put_path(first).digest == component.put_path(second).digest

    def test_a_file_round_trips_with_its_name(self, component: Any, tmp_path: Path) -> None:
        source = tmp_path / "model.safetensors"
        source.write_bytes(b"\x00\x01" * 1000)
        ref = component.put_path(source)
        local = component.local_path(ref)
        assert local.name == "model.safetensors"
        assert local.read_bytes() == source.read_bytes()

    def test_a_path_given_as_a_string_is_stored(self, component: Any, tmp_path: Path) -> None:
        (tmp_path / "model").mkdir()
        (tmp_path / "model" / "weights.bin").write_bytes(b"abc")
        (tmp_path / "config.json").write_text("{}")
        file_ref = component.put_path(str(tmp_path / "config.json"))
        assert (file_ref.kind, file_ref.name) == ("file", "config.json")
        assert component.get_bytes(file_ref) == b"{}"
        folder_ref = component.put_path(str(tmp_path / "model"))
        assert (folder_ref.kind, folder_ref.name, folder_ref.size) == ("tree", "model", 3)

    def test_a_folder_round_trips(self, component: Any, tmp_path: Path) -> None:
        folder = tmp_path / "model"
        (folder / "sub").mkdir(parents=True)
        (folder / "config.json").write_text("{}")
        (folder / "sub" / "weights.bin").write_bytes(b"123")
        ref = component.put_path(folder)
        assert ref.kind == "tree" and ref.size == 5
        local = component.local_path(ref)
        files = sorted(p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file())
        assert files == ["config.json", "sub/weights.bin"]
        assert (local / "sub" / "weights.bin").read_bytes() == b"123"

    def test_a_missing_path_is_refused(self, component: Any, tmp_path: Path) -> None:
        from modelops_core.store.contract import ArtifactNotFoundError

        with pytest.raises(ArtifactNotFoundError, match="no-such-file"):
            component.put_path(tmp_path / "no-such-file")

    def test_corrupted_content_is_never_returned(self, component: Any) -> None:
        from modelops_core.store.contract import ArtifactCorruptedError

        ref = component.put_bytes(b"good weights", name="w.bin")
        try:
            self.corrupt(component, ref)
        except NotImplementedError:
            pytest.skip("the suite cannot corrupt this store; override corrupt()")
        with pytest.raises(ArtifactCorruptedError, match="corrupted"):
            component.get_bytes(ref)
        with pytest.raises(ArtifactCorruptedError, match="corrupted"):
            component.local_path(ref)

    def test_deleted_content_is_gone(self, component: Any) -> None:
        from modelops_core.store.contract import ArtifactNotFoundError

        ref = component.put_bytes(b"temporary")
        component.delete(ref)
        assert not component.exists(ref)
        with pytest.raises(ArtifactNotFoundError):
            component.get_bytes(ref)

    @pytest.mark.parametrize("name", ["../../outside", "{tmp}/absolute", "a/../../b", "..", "a\\b"])
    def test_an_unsafe_name_is_never_checked_out(
        self, component: Any, tmp_path: Path, name: str
    ) -> None:
        import os

        from modelops_core.store.contract import ArtifactRef, UnsafeArtifactNameError

        stored = component.put_bytes(b"weights", name="w.bin")
        victim = tmp_path / "outside"
        victim.mkdir()
        (victim / "keep.txt").write_text("precious")
        before = sorted(os.walk(tmp_path))
        hostile = ArtifactRef(stored.digest, "file", stored.size, name.format(tmp=tmp_path))
        with pytest.raises(UnsafeArtifactNameError, match="is unsafe"):
            component.local_path(hostile)
        with pytest.raises(UnsafeArtifactNameError, match="is unsafe"):
            component.local_path(ArtifactRef(stored.digest, "tree", stored.size, hostile.name))
        assert sorted(os.walk(tmp_path)) == before  # nothing written or removed anywhere
        assert (victim / "keep.txt").read_text() == "precious"

    def test_links_are_refused_not_followed(self, component: Any, tmp_path: Path) -> None:
        from modelops_core.store.contract import ArtifactLinkError

        secret = tmp_path / "secret.txt"
        secret.write_text("password")
        link = tmp_path / "model.bin"
        link.symlink_to(secret)
        with pytest.raises(ArtifactLinkError, match="model.bin': it is a symbolic link"):
            component.put_path(link)
        folder = tmp_path / "model"
        folder.mkdir()
        (folder / "weights.bin").write_bytes(b"w")
        (folder / "secret.txt").symlink_to(secret)
        with pytest.raises(ArtifactLinkError, match="secret.txt' is a symbolic link"):
            component.put_path(folder)
        (folder / "secret.txt").unlink()
        (folder / "data").symlink_to(tmp_path, target_is_directory=True)
        with pytest.raises(ArtifactLinkError, match="data' is a symbolic link"):
            component.put_path(folder)

    def test_a_name_with_a_backslash_is_refused_when_stored(
        self, component: Any, tmp_path: Path
    ) -> None:
        from modelops_core.store.contract import UnsafeArtifactNameError

        single = tmp_path / "weights\\v1.bin"
        single.write_bytes(b"w")
        with pytest.raises(UnsafeArtifactNameError, match="Rename it"):
            component.put_path(single)
        folder = tmp_path / "model"
        folder.mkdir()
        (folder / "a\\b.bin").write_bytes(b"w")
        with pytest.raises(UnsafeArtifactNameError, match="could never be loaded again"):
            component.put_path(folder)

    def test_writing_into_a_checkout_leaves_the_stored_content_intact(
        self, component: Any, tmp_path: Path
    ) -> None:
        import os

        source = tmp_path / "model.bin"
        source.write_bytes(b"original")
        ref = component.put_path(source)
        local = component.local_path(ref)
        os.chmod(local, 0o644)
        local.write_bytes(b"tampered")
        assert component.get_bytes(ref) == b"original"
        assert component.local_path(ref).read_bytes() == b"original"
