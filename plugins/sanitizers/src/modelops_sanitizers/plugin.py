"""The entry point of modelops-sanitizers: declares the sanitizers, imports none of them."""

from __future__ import annotations

from modelops_core import hookimpl
from modelops_core.plugins.components import ComponentRegistrar


@hookimpl
def modelops_register_sanitizers(registry: ComponentRegistrar) -> None:
    registry.add(
        "pii",
        "modelops_sanitizers.pii:PiiSanitizer",
        description="redact validated PII (email, phone, card, IBAN, IP, SSN, secrets): "
        "mask, salted hash, partial or drop",
    )
    registry.add(
        "strip_keys",
        "modelops_sanitizers.basic:StripKeys",
        description="remove the given keys from every record",
    )
    registry.add(
        "filter_by_length",
        "modelops_sanitizers.basic:FilterByLength",
        description="drop records whose key is longer than max_len characters or tokens",
    )
    registry.add(
        "dedupe",
        "modelops_sanitizers.basic:Dedupe",
        description="drop exact or whitespace/case-normalised duplicate records",
    )
