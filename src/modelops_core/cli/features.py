"""``modelops features …``: push, get, list, push-embeddings, nearest (tables via rich,
imported when printing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from modelops_core.cli.context import state
from modelops_core.cli.lazy import HintingGroup

if TYPE_CHECKING:
    from modelops_core.features.store import FeatureStore


def _store() -> FeatureStore:
    from modelops_core.features.store import FeatureStore

    return FeatureStore(state().runtime())


def _value(text: str) -> Any:
    """A JSON value when ``text`` parses as one (``3``, ``true``, ``[1,2]``), else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _pairs(assignments: tuple[str, ...]) -> dict[str, Any]:
    features: dict[str, Any] = {}
    for assignment in assignments:
        name, sep, text = assignment.partition("=")
        if not sep or not name:
            raise click.BadParameter(
                f"{assignment!r} is not NAME=VALUE (e.g. --set age=31 --set country=FR).",
                param_hint="--set",
            )
        features[name] = _value(text)
    return features


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=repr)


def _read_vector(path: Path) -> Any:
    import numpy as np

    if path.suffix == ".npy":
        return np.load(path, allow_pickle=False)
    text = path.read_text(encoding="utf-8").strip()
    try:
        return np.asarray(json.loads(text), dtype=np.float32)
    except ValueError:
        return np.asarray(text.replace(",", " ").split(), dtype=np.float32)


_SET = click.option("--feature-set", "-s", default=None, help="feature set (default: default)")
_VERSION = click.option("--version", "-v", "version", default=1, show_default=True, type=int)


_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


@click.group("features", cls=HintingGroup)
def features_group() -> None:
    """Feature store: push and read features, push and search embeddings."""


@features_group.command("push")
@click.argument("entity")
@click.option("--set", "assignments", multiple=True, required=True, metavar="NAME=VALUE",
              help="a feature (VALUE is JSON when it parses, else text); repeat")  # fmt: skip
@_SET
@_VERSION
@click.option("--ttl", type=float, default=None, help="seconds until the row expires")
def push(
    entity: str,
    assignments: tuple[str, ...],
    feature_set: str | None,
    version: int,
    ttl: float | None,
) -> None:
    """Store the features of ENTITY (replacing its previous row)."""
    features = _pairs(assignments)
    with _store() as store:
        store.push_features(entity, features, feature_set=feature_set, version=version, ttl=ttl)
    click.echo(f"pushed {len(features)} feature(s) for {entity}")


@features_group.command("get")
@click.argument("entity")
@_SET
@_VERSION
@click.option("--as-of", type=float, default=None, help="Unix time of a point-in-time read")
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table")
def get(
    entity: str, feature_set: str | None, version: int, as_of: float | None, as_json: bool
) -> None:
    """Show the features of ENTITY (an unknown entity has none)."""
    from modelops_core.cli.render import print_json, print_table

    with _store() as store:
        features = store.get_features(entity, feature_set=feature_set, version=version, as_of=as_of)
    if as_json:
        print_json(features)
        return
    rows = [[name, _cell(value)] for name, value in sorted(features.items())]
    print_table(f"{entity} ({feature_set or 'default'} v{version})", ["feature", "value"], rows)
    if not features:
        click.echo(f"no features for {entity!r}", err=True)


@features_group.command("list")
@_SET
@_VERSION
@click.option("--limit", default=50, show_default=True, help="entities to show")
@_JSON
def list_command(feature_set: str | None, version: int, limit: int, as_json: bool) -> None:
    """List feature sets and embedding indexes, or the entities of --feature-set."""
    from modelops_core.cli.render import print_json, print_table

    with _store() as store:
        if feature_set is not None:
            entities = store.entities(feature_set, version, limit)
            if as_json:
                print_json({"feature_set": feature_set, "version": version, "entities": entities})
                return
            print_table(f"{feature_set} v{version}", ["entity"], [[e] for e in entities])
            return
        sets = store.feature_sets()
        indexes = store.indexes()
    if as_json:
        print_json(
            {
                "feature_sets": [
                    {"name": s.name, "version": s.version, "entities": s.entities,
                     "schema": dict(s.schema)}
                    for s in sets
                ],
                "indexes": [
                    {"name": i.name, "dim": i.dim, "metric": i.metric, "vectors": i.count,
                     "method": i.method}
                    for i in indexes
                ],
            }
        )  # fmt: skip
        return
    print_table(
        "feature sets",
        ["name", "version", "entities", "schema"],
        [[s.name, s.version, s.entities, _cell(dict(s.schema))] for s in sets],
        prose=["schema"],
    )
    print_table(
        "embedding indexes",
        ["name", "dim", "metric", "vectors", "method"],
        [[i.name, i.dim, i.metric, i.count, i.method] for i in indexes],
    )
    if not indexes:
        click.echo(
            "no embedding indexes: push some with `modelops features push-embeddings FILE`",
            err=True,
        )


@features_group.command("push-embeddings")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--index", default="default", show_default=True, help="the index to push to")
@click.option("--metric", type=click.Choice(["cosine", "ip", "l2"]), default="cosine",
              show_default=True, help="fixed by an index's first push")  # fmt: skip
@click.option("--ids", "ids_path", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="for .npy: a text file of one id per line, in row order")  # fmt: skip
@click.option("--id-key", default="id", show_default=True, help="JSONL key / Parquet column")
@click.option("--vector-key", default="vector", show_default=True,
              help="JSONL key / Parquet column of the vectors")  # fmt: skip
def push_embeddings_command(
    file: Path,
    index: str,
    metric: str,
    ids_path: Path | None,
    id_key: str,
    vector_key: str,
) -> None:
    """Store the vectors of FILE (an existing id is replaced) in --index.

    \b
    FILE is one of:
      .jsonl    one {"id": "doc-1", "vector": [0.1, ...], ...} per line (other keys: metadata)
      .parquet  columns id and vector (a list of numbers); other columns: metadata
      .npz      arrays ids and vectors
      .npy      a 2-D array, with --ids FILE (one id per line)
    """
    from modelops_core.features.files import read_embeddings

    embeddings = read_embeddings(file, ids_path=ids_path, id_key=id_key, vector_key=vector_key)
    with _store() as store:
        info = store.push_embeddings(
            list(embeddings.ids),
            embeddings.matrix,
            list(embeddings.metadata),
            index=index,
            metric=metric,
        )
    click.echo(
        f"pushed {len(embeddings.ids)} vector(s) of dimension {embeddings.matrix.shape[1]} to "
        f"index {index!r} ({info.count} in total, {info.metric})"
    )


@features_group.command("nearest")
@click.option(
    "--vector",
    "vector_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help=".npy, a JSON list, or numbers separated by spaces/commas",
)
@click.option("--id", "item", default=None, help="search with the stored vector of this id")
@click.option("-k", default=10, show_default=True, help="neighbours to return")
@click.option("--index", default="default", show_default=True)
@click.option("--exact", is_flag=True, help="exact search even when the index is approximate")
@_JSON
def nearest(
    vector_path: Path | None, item: str | None, k: int, index: str, exact: bool, as_json: bool
) -> None:
    """Show the K nearest embeddings to a vector (--vector FILE or --id ID); push them first
    with `modelops features push-embeddings FILE`."""
    from modelops_core.cli.render import print_json, print_table

    if (vector_path is None) == (item is None):
        raise click.UsageError("Give exactly one of --vector FILE or --id ID.")
    with _store() as store:
        if item is not None:
            found = store.get_embeddings([item], index=index)
            if item not in found:
                raise click.UsageError(
                    f"No embedding with id {item!r} in index {index!r}; push it with "
                    f"`modelops features push-embeddings FILE --index {index}`."
                )
            query = found[item]
        else:
            assert vector_path is not None
            query = _read_vector(vector_path)
        neighbours = store.nearest(query, k=k, index=index, exact=exact)
    if as_json:
        print_json(
            [
                {"rank": rank, "id": n.id, "distance": n.distance, "metadata": dict(n.metadata)}
                for rank, n in enumerate(neighbours, start=1)
            ]
        )
        return
    print_table(
        f"nearest in {index}",
        ["rank", "id", "distance", "metadata"],
        [[rank, n.id, f"{n.distance:.6f}", _cell(dict(n.metadata))]
         for rank, n in enumerate(neighbours, start=1)],
        prose=["metadata"],
    )  # fmt: skip
