"""The bedrock provider's test kit: strict checks against botocore's models, and fakes.

- :class:`ServiceSpec` checks requests and responses against botocore's own service model
  (patterns, enums, lengths, ranges, required members, timestamps, status codes);
  :func:`spec_source` names the botocore version and model files it reads.
- :class:`StrictStubber`: botocore's ``Stubber`` with those checks and the model's status
  codes and headers for scripted errors.
- :class:`FakeBedrock`: the customization API at the transport (in-process or over HTTP),
  walking every job lifecycle and failure a test scripts.
- :class:`FakeBedrockRuntime`: Converse and ConverseStream at the transport (the event stream
  in AWS's binary framing), each answer and event checked against the model.
- :class:`ExchangeRecorder`: strict mode for any boto3 session or client (S3 on moto, too).

Imports ``botocore`` (this module is for tests; the plugin itself imports no boto3).
"""

from modelops_provider_bedrock.testing.fake import LIFECYCLES, SCENARIOS, FakeBedrock, Received
from modelops_provider_bedrock.testing.recorder import Exchange, ExchangeRecorder
from modelops_provider_bedrock.testing.runtime import FakeBedrockRuntime, encode_event
from modelops_provider_bedrock.testing.spec import (
    ServiceSpec,
    SpecSource,
    SpecViolationError,
    Violation,
    recorded_source,
    spec_source,
    validation_message,
)
from modelops_provider_bedrock.testing.stubber import StrictStubber

__all__ = [
    "LIFECYCLES",
    "SCENARIOS",
    "Exchange",
    "ExchangeRecorder",
    "FakeBedrock",
    "FakeBedrockRuntime",
    "Received",
    "ServiceSpec",
    "SpecSource",
    "SpecViolationError",
    "StrictStubber",
    "Violation",
    "encode_event",
    "recorded_source",
    "spec_source",
    "validation_message",
]
