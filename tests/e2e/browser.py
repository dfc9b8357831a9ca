"""What every browser test shares: Debian's Chromium, driven by playwright (its own download is blocked)."""

from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DOCS_IMG = Path(settings.BASE_DIR) / "docs" / "img"

try:
    from playwright import sync_api
except ImportError:  # requirements-test.txt installs it; without it the browser tests skip
    sync_api = None

BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM} (make install-browser)"),
    pytest.mark.skipif(sync_api is None, reason="playwright is not installed (requirements-test.txt)"),
]
