"""Provider training-file formats: one canonical record in, one provider JSONL record out.

The formats are declared by the provider plugins, each an
:class:`~modelops_core.plugins.protocols.ExportShape` of its
:class:`~modelops_core.plugins.protocols.ProviderProfile`: the canonical format its records are
    built
from and a converter (``"module:attr"``, imported when used). The installed plugins declare
``openai`` and ``openai-dpo`` (provider-openai), ``vertex`` and ``vertex-preference``
(provider-vertex), ``bedrock`` and ``bedrock-conversation`` (provider-bedrock) and ``local``
(provider-local). :func:`split_system` and :func:`text_parts` are shared by converters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from modelops_core.datasets.errors import DatasetFormatError
from modelops_core.datasets.formats import Record, convert_record, record_images
from modelops_core.errors import ComponentError
from modelops_core.finetune.provider_contract import ExportTarget, ProviderCatalogue

if TYPE_CHECKING:
    from modelops_core.runtime import Runtime


def check_export_name(provider: str | ExportTarget, runtime: Runtime | None = None) -> ExportTarget:
    """The export shape called ``provider`` among the providers of ``runtime`` (default: the
    installed ones); :class:`UnknownProviderError` lists the known names."""
    if isinstance(provider, ExportTarget):
        return provider
    return ProviderCatalogue.of(runtime).target(provider)


def export_record(
    record: Mapping[str, Any], format: str, provider: str | ExportTarget, where: str
) -> Record:
    """The provider's JSONL record for a canonical ``record`` of ``format``.

    Pass the :class:`ExportTarget` of :func:`check_export_name` when exporting many records: a
    name is looked up among the installed providers on every call.
    """
    target = check_export_name(provider)
    canonical = convert_record(record, format, target.shape.base, where)
    convert = target.converter()
    if convert is None:
        return canonical
    if record_images(canonical, target.shape.base):
        raise DatasetFormatError(
            f"{where}: holds images (image_url content parts), which the {target.name} export "
            "does not take; export to a chat shape that takes images (openai), or drop the "
            "image parts."
        )
    result = convert(canonical, where)
    if not isinstance(result, dict):
        raise ComponentError(
            f"{where}: the converter {target.shape.converter!r} of the export shape "
            f"{target.name!r} (plugin {target.plugin!r}) returned {type(result).__name__}, not "
            "a dict (a JSON object); upgrade or report the plugin."
        )
    return result


def text_parts(text: str) -> list[dict[str, str]]:
    """``[{"text": text}]``: a content written as a list of text parts."""
    return [{"text": text}]


def split_system(
    messages: list[dict[str, Any]], export: str, where: str
) -> tuple[str, list[dict[str, Any]]]:
    """``(system text, the other turns)`` of canonical chat messages, for a shape that keeps the
    system text apart; :class:`DatasetFormatError` for system text after the first turn and
    for tool turns (``export`` names the shape in the message)."""
    system: list[str] = []
    rest: list[dict[str, Any]] = []
    for message in messages:
        if message["role"] == "system":
            if rest:
                raise DatasetFormatError(
                    f"{where}: {export} takes system text only before the first turn; "
                    "move the system message to the start."
                )
            system.append(message["content"])
        elif message["role"] == "tool":
            raise DatasetFormatError(
                f"{where}: {export} export does not support tool turns; drop them or "
                "export to a shape that keeps them (a chat shape with tool calls)."
            )
        else:
            rest.append(message)
    return "\n\n".join(system), rest
