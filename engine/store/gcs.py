"""The shared store in a ``gs://`` backend's bucket (or a fake GCS server's), through google-cloud-storage."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any

from terrane.engine.store.objects import Conflict, StoreError, prefixed

_HINT = "the operator's Google credentials must reach the backend's bucket, as Pulumi's do"


class GcsStore:
    """A prefix of a GCS bucket."""

    def __init__(self, bucket: Any, prefix: str) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.where = f"gs://{bucket.name}/{prefix}"

    def get(self, key: str) -> bytes | None:
        from google.api_core.exceptions import GoogleAPIError, NotFound

        try:
            data: bytes = self.bucket.blob(self.prefix + key).download_as_bytes()
        except NotFound:
            return None
        except GoogleAPIError as exc:
            raise self._error("read", key, exc) from exc
        return data

    def create(self, key: str, data: bytes) -> None:
        from google.api_core.exceptions import GoogleAPIError, PreconditionFailed

        try:
            self.bucket.blob(self.prefix + key).upload_from_string(data, if_generation_match=0)
        except PreconditionFailed as exc:
            raise Conflict(key) from exc
        except GoogleAPIError as exc:
            raise self._error("write", key, exc) from exc

    def keys(self, prefix: str, *, start_after: str = "") -> Iterator[str]:
        from google.api_core.exceptions import GoogleAPIError

        try:
            names = [blob.name for blob in self.bucket.client.list_blobs(self.bucket, prefix=self.prefix + prefix)]
        except GoogleAPIError as exc:
            raise self._error("list", prefix, exc) from exc
        yield from (key for key in sorted(name.removeprefix(self.prefix) for name in names) if key > start_after)

    def delete(self, key: str) -> None:
        from google.api_core.exceptions import GoogleAPIError, NotFound

        try:
            self.bucket.blob(self.prefix + key).delete()
        except NotFound:
            return
        except GoogleAPIError as exc:
            raise self._error("delete", key, exc) from exc

    def _error(self, verb: str, key: str, exc: Exception) -> StoreError:
        return StoreError(f"could not {verb} {self.where}{key}: {str(exc).splitlines()[0]}", hint=_HINT)


def gcs_store(url: str, environ: Mapping[str, str]) -> GcsStore:
    """The bucket and prefix of a ``gs://`` backend URL, with the operator's credentials (Application Default
    Credentials, or ``GOOGLE_OAUTH_ACCESS_TOKEN``), or a fake server's (``STORAGE_EMULATOR_HOST``, no sign-in)."""
    try:
        from google.cloud import storage
    except ImportError as exc:
        raise StoreError("a gs:// backend keeps terrane's drift history in its bucket, through "
                         "google-cloud-storage, which is not installed", hint="pip install 'terrane[gcp]'") from exc
    parts = urllib.parse.urlsplit(url)
    options: dict[str, str] = {}
    credentials: Any = None
    if emulator := environ.get("STORAGE_EMULATOR_HOST"):
        from google.auth.credentials import AnonymousCredentials

        options["api_endpoint"] = emulator if "://" in emulator else f"http://{emulator}"
        credentials = AnonymousCredentials()
    elif token := environ.get("GOOGLE_OAUTH_ACCESS_TOKEN"):
        from google.oauth2.credentials import Credentials

        credentials = Credentials(token)
    client = storage.Client(project=environ.get("GOOGLE_CLOUD_PROJECT") or "terrane", credentials=credentials,
                            client_options=options or None)
    return GcsStore(client.bucket(parts.netloc), prefixed(parts.path))
