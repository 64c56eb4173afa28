"""The shared store of a backend URL: which object store, or the project's own directory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from terrane.engine.store.objects import LocalStore, ObjectStore
from terrane.engine.store.paths import STATE_DIR


def open_store(project_root: Path, backend_url: str | None, environ: Mapping[str, str] = os.environ) -> ObjectStore:
    """terrane's shared files for this backend: ``.terrane/`` in the project, or in the backend's bucket.

    Pulumi Cloud and a file backend elsewhere keep them in the project, as one machine's. ``environ`` holds
    the operator's credentials for the bucket, the ones Pulumi uses.
    """
    scheme = (backend_url or "").partition("://")[0]
    if scheme == "s3":
        from terrane.engine.store.s3 import s3_store

        return s3_store(backend_url or "", environ)
    if scheme == "azblob":
        from terrane.engine.store.azblob import azblob_store

        return azblob_store(backend_url or "", environ)
    if scheme == "gs":
        from terrane.engine.store.gcs import gcs_store

        return gcs_store(backend_url or "", environ)
    return LocalStore(project_root / STATE_DIR)
