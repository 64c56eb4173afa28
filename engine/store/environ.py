"""The environment a child process of terrane's may see: built from an allow-list, never the whole of ours."""

from __future__ import annotations

import os
from collections.abc import Mapping

# Never credentials: what any process needs to run, reach the network and find its tools.
BASE = {
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
    "PULUMI_HOME", "PULUMI_SKIP_UPDATE_CHECK", "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK",
    "PULUMI_LOG_ROTATION_MAX_AGE_DAYS", "PULUMI_LOG_ROTATION_MAX_TOTAL_MB",
    "VIRTUAL_ENV", "PYTHONPATH",
}
BASE_PREFIXES = ("LC_",)


def base_environment(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """What any process of terrane's needs to run, and nothing else: no account's credential, no backend's."""
    return chosen(environ, BASE)


def chosen(environ: Mapping[str, str], names: set[str]) -> dict[str, str]:
    """The variables of ``environ`` named in ``names``, and the locale's (``LC_*``)."""
    return {name: value for name, value in environ.items() if name in names or name.startswith(BASE_PREFIXES)}
