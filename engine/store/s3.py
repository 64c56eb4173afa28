"""The shared store in an ``s3://`` backend's bucket (or one that speaks S3: a moto server), through boto3."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any

from terrane.engine.store.objects import Conflict, StoreError, prefixed


class S3Store:
    """A prefix of an S3 bucket (or one that speaks S3: a moto server), through boto3."""

    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.where = f"s3://{bucket}/{prefix}"

    def get(self, key: str) -> bytes | None:
        try:
            body: bytes = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None
        except Exception as exc:  # botocore's errors: no credentials, denied, unreachable
            raise self._error("read", key, exc) from exc
        return body

    def create(self, key: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data, IfNoneMatch="*")
        except Exception as exc:
            if _code(exc) in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise Conflict(key) from exc
            raise self._error("write", key, exc) from exc

    def keys(self, prefix: str, *, start_after: str = "") -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix + prefix,
            **({"StartAfter": self.prefix + start_after} if start_after else {}))
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    yield item["Key"].removeprefix(self.prefix)
        except Exception as exc:
            raise self._error("list", prefix, exc) from exc

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)
        except Exception as exc:
            raise self._error("delete", key, exc) from exc

    def _error(self, verb: str, key: str, exc: Exception) -> StoreError:
        return StoreError(f"could not {verb} {self.where}{key}: {exc}",
                          hint="the operator's AWS credentials must reach the backend's bucket, as Pulumi's do")


def _code(exc: Exception) -> str:
    response: Any = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def s3_store(url: str, environ: Mapping[str, str]) -> S3Store:
    """The bucket and prefix of an ``s3://`` backend URL, with Pulumi's settings: region, endpoint, path style."""
    import boto3
    from botocore.config import Config

    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    endpoint = query.get("endpoint")
    if endpoint and "://" not in endpoint:
        endpoint = f"{'http' if query.get('disableSSL') == 'true' else 'https'}://{endpoint}"
    path_style = query.get("s3ForcePathStyle") == "true" or query.get("use_path_style") == "true"
    session = boto3.session.Session(profile_name=query.get("profile"))
    client = session.client("s3", region_name=query.get("region") or environ.get("AWS_REGION"),
                            endpoint_url=endpoint or environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL"),
                            config=Config(s3={"addressing_style": "path" if path_style else "auto"}))
    return S3Store(client, parts.netloc, prefixed(parts.path))
