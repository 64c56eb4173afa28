"""Headless Chromium for the browser tests: finding it and its driver, starting it, and reading what it saw.

In order: ``TERRANE_CHROMEDRIVER`` (the driver's path), else ``chromedriver`` on PATH; the
browser is ``chromium`` (or ``chromium-browser``) on PATH. ``tools/browser/install`` puts
Debian's matching pair there. Without them the tests skip and say why, except in CI
(``CI=true``), where they fail (``tests.helpers.real_cli.require``).

Nothing is downloaded and nothing phones home: the driver is given by path (Selenium Manager
never runs), the browser starts with its background networking off, and every host name
resolves to nothing, so a page that needs the network shows it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.helpers.project import REPO

INSTALL = REPO / "tools" / "browser" / "install"
DRIVER_ENV = "TERRANE_CHROMEDRIVER"
ARTIFACTS_ENV = "TERRANE_ARTIFACTS"
BROWSERS = ("chromium", "chromium-browser")

# Selenium's own switches: no usage statistics, and no Selenium Manager downloads.
SELENIUM_ENV = {"SE_AVOID_STATS": "true", "SE_OFFLINE": "true"}

_SWITCHES = (
    "--headless=new",
    "--no-sandbox",  # as root, and in containers without user namespaces
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
)


@dataclass(frozen=True)
class Chromium:
    """A browser and the WebDriver that drives it."""

    browser: Path
    driver: Path


def find() -> Chromium | str:
    """The browser and its driver, or why there are none."""
    hint = f"run {INSTALL.relative_to(REPO)}, or set {DRIVER_ENV}"
    if os.environ.get(DRIVER_ENV):
        driver = Path(os.environ[DRIVER_ENV])
        if not (driver.is_file() and os.access(driver, os.X_OK)):
            return f"{DRIVER_ENV}={driver} is not an executable file"
    else:
        found = shutil.which("chromedriver")
        if not found:
            return f"needs chromedriver and Chromium: {hint}"
        driver = Path(found)
    browser = next((Path(path) for name in BROWSERS if (path := shutil.which(name))), None)
    if browser is None:
        return f"needs Chromium ({' or '.join(BROWSERS)} on PATH): {hint}"
    return Chromium(browser, driver)


def start(chromium: Chromium, profile: Path, *, javascript: bool = True) -> Any:
    """A headless Chromium whose console is logged (``get_log("browser")``), with a fresh profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium.browser)
    for switch in (*_SWITCHES, f"--user-data-dir={profile}"):
        options.add_argument(switch)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    service = Service(executable_path=str(chromium.driver), log_output=subprocess.DEVNULL)
    return webdriver.Chrome(options=options, service=service)


def viewport(driver: Any, width: int, height: int, *, mobile: bool = False) -> None:
    """Make the page's viewport exactly WIDTHxHEIGHT CSS pixels (a phone's, with ``mobile``), at scale 1."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})


def artifacts() -> Path:
    """Where screenshots go: ``$TERRANE_ARTIFACTS``, else ``artifacts/`` at the repository's root."""
    root = Path(os.environ.get(ARTIFACTS_ENV) or REPO / "artifacts")
    root.mkdir(parents=True, exist_ok=True)
    return root


@dataclass(frozen=True)
class Png:
    """What a PNG file holds: its size in pixels and how many distinct byte values its pixel rows use."""

    width: int
    height: int
    distinct_bytes: int


def read_png(path: Path) -> Png:
    """Read a PNG's header and pixel data (chunks, IHDR, the inflated IDAT stream); ValueError if it is none."""
    data = path.read_bytes()
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError(f"{path} is not a PNG")
    chunks: dict[bytes, bytes] = {}
    offset = 8
    while offset < len(data):
        length = int.from_bytes(data[offset:offset + 4], "big")
        kind = data[offset + 4:offset + 8]
        chunks[kind] = chunks.get(kind, b"") + data[offset + 8:offset + 8 + length]
        offset += 12 + length
    header = chunks[b"IHDR"]
    pixels = zlib.decompress(chunks[b"IDAT"])
    return Png(int.from_bytes(header[0:4], "big"), int.from_bytes(header[4:8], "big"), len(set(pixels)))
