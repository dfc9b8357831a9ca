import os

import pytest

from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, DOCS_IMG, sync_api


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API keeps an idle asyncio loop on this thread, which Django's guard takes
    # for an async context; the ORM calls here are plain synchronous code, so the guard is lifted.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 760, "height": 620})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def screenshot_dir(tmp_path):
    """Screenshots go to a temporary folder; with UPDATE_SCREENSHOTS=1 they refresh docs/img/."""
    if os.environ.get("UPDATE_SCREENSHOTS"):
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        return DOCS_IMG
    return tmp_path
