"""The shared store in an ``azblob://`` backend's container (or Azurite's), through azure-storage-blob."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any

from terrane.engine.store.objects import Conflict, StoreError, prefixed

_HINT = ("the operator's Azure credentials must reach the backend's container, as Pulumi's do "
         "(AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN, or Entra ID)")


class AzureBlobStore:
    """A prefix of a blob container."""

    def __init__(self, container: Any, prefix: str, where: str) -> None:
        self.container = container
        self.prefix = prefix
        self.where = where

    def get(self, key: str) -> bytes | None:
        from azure.core.exceptions import AzureError, ResourceNotFoundError

        try:
            data: bytes = self.container.download_blob(self.prefix + key).readall()
        except ResourceNotFoundError:
            return None
        except AzureError as exc:
            raise self._error("read", key, exc) from exc
        return data

    def create(self, key: str, data: bytes) -> None:
        from azure.core.exceptions import AzureError, ResourceExistsError

        try:
            self.container.upload_blob(self.prefix + key, data, overwrite=False)  # If-None-Match: *
        except ResourceExistsError as exc:
            raise Conflict(key) from exc
        except AzureError as exc:
            raise self._error("write", key, exc) from exc

    def keys(self, prefix: str, *, start_after: str = "") -> Iterator[str]:
        from azure.core.exceptions import AzureError

        try:
            names = list(self.container.list_blob_names(name_starts_with=self.prefix + prefix))
        except AzureError as exc:
            raise self._error("list", prefix, exc) from exc
        yield from (key for key in sorted(name.removeprefix(self.prefix) for name in names) if key > start_after)

    def delete(self, key: str) -> None:
        from azure.core.exceptions import AzureError, ResourceNotFoundError

        try:
            self.container.delete_blob(self.prefix + key)
        except ResourceNotFoundError:
            return
        except AzureError as exc:
            raise self._error("delete", key, exc) from exc

    def _error(self, verb: str, key: str, exc: Exception) -> StoreError:
        return StoreError(f"could not {verb} {self.where}{key}: {str(exc).splitlines()[0]}", hint=_HINT)


def azblob_store(url: str, environ: Mapping[str, str]) -> AzureBlobStore:
    """The container and prefix of an ``azblob://`` backend URL, with Pulumi's settings (``storage_account``,
    ``domain``, ``protocol``, ``localemu``) and credentials (a key, a SAS token, else Entra ID)."""
    try:
        from azure.storage.blob import ContainerClient
    except ImportError as exc:
        raise StoreError("an azblob:// backend keeps terrane's drift history in its container, through "
                         "azure-storage-blob, which is not installed", hint="pip install 'terrane[azure]'") from exc
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    account = query.get("storage_account") or environ.get("AZURE_STORAGE_ACCOUNT")
    if not account:
        raise StoreError(f"{url}: no storage account", hint="add ?storage_account=NAME or set AZURE_STORAGE_ACCOUNT")
    if query.get("localemu") == "true":
        account_url = f"{query.get('protocol', 'http')}://{query.get('domain', '127.0.0.1:10000')}/{account}"
    else:
        account_url = f"{query.get('protocol', 'https')}://{account}.blob.{query.get('domain', 'core.windows.net')}"
    container = ContainerClient(account_url, parts.netloc, credential=_credential(account, environ))
    return AzureBlobStore(container, prefixed(parts.path), f"azblob://{parts.netloc}/{prefixed(parts.path)}")


def _credential(account: str, environ: Mapping[str, str]) -> Any:
    if key := environ.get("AZURE_STORAGE_KEY"):
        return {"account_name": account, "account_key": key}
    if sas := environ.get("AZURE_STORAGE_SAS_TOKEN"):
        return sas
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError as exc:
        raise StoreError("an azblob:// backend without AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN signs in with "
                         "Entra ID, through azure-identity, which is not installed",
                         hint="pip install 'terrane[azure]'") from exc
    return DefaultAzureCredential()
