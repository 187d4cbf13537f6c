"""Helpers shared by the bedrock provider tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

REGION = "us-east-1"
ROLE_ARN = "arn:aws:iam::123456789012:role/BedrockCustomization"
ACCOUNT = "123456789012"
NOVA = "amazon.nova-micro-v1:0:128k"
TITAN = "amazon.titan-text-express-v1:0:8k"


@functools.cache
def shared_session() -> Any:
    """One boto3 session with fake credentials for every test: its clients share the loaded
    service models, which makes a new client about ten times cheaper."""
    import boto3

    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )


def make_client(service: str, endpoint_url: str | None = None) -> Any:
    """A plain boto3 client with fake credentials (and no retries)."""
    from botocore.config import Config

    return shared_session().client(
        service, endpoint_url=endpoint_url, config=Config(retries={"total_max_attempts": 1})
    )


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> str:
    """``records`` as JSON lines in ``path``; returns the path as a string."""
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return str(path)


def bucket_keys(s3: Any, bucket: str) -> list[str]:
    """Every key in ``bucket``."""
    return [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def nova_records(count: int = 32) -> list[dict[str, Any]]:
    """Valid ``bedrock-conversation-2024`` records (Bedrock wants at least 32)."""
    return [
        {
            "schemaVersion": "bedrock-conversation-2024",
            "system": [{"text": "Answer with the capital city."}],
            "messages": [
                {"role": "user", "content": [{"text": f"What is the capital of country {i}?"}]},
                {"role": "assistant", "content": [{"text": f"City {i}"}]},
            ],
        }
        for i in range(count)
    ]


def prompt_records(count: int = 32) -> list[dict[str, Any]]:
    """Valid prompt/completion records (Titan, Cohere, Llama)."""
    return [{"prompt": f"Question {i}?", "completion": f"Answer {i}"} for i in range(count)]
