"""Fixtures of the browser tests: a headless Chromium (``tests/browser/chromium.py`` finds and starts it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import chromium
from tests.helpers.real_cli import require


@pytest.fixture(scope="session")
def chromium_paths() -> chromium.Chromium:
    """The browser and its driver; the test skips without them (fails in CI)."""
    found = chromium.find()
    if isinstance(found, str):
        require(found)
    assert isinstance(found, chromium.Chromium)
    return found


@pytest.fixture
def browser(chromium_paths: chromium.Chromium, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fresh headless Chromium (Selenium WebDriver), quit after the test."""
    for name, value in chromium.SELENIUM_ENV.items():
        monkeypatch.setenv(name, value)
    driver = chromium.start(chromium_paths, tmp_path / "chromium-profile")
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser_without_javascript(chromium_paths: chromium.Chromium, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The same, with JavaScript turned off."""
    for name, value in chromium.SELENIUM_ENV.items():
        monkeypatch.setenv(name, value)
    driver = chromium.start(chromium_paths, tmp_path / "chromium-profile-nojs", javascript=False)
    try:
        yield driver
    finally:
        driver.quit()
