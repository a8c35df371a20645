"""What the workday's browser tests share: a phone-sized page and screenshots under /tmp/shots/workday/."""

from pathlib import Path

import pytest

SHOTS = Path("/tmp/shots/workday")  # noqa: S108 - where the screenshots are looked at
PHONE = {"width": 375, "height": 812}


def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(params=["desktop", "phone"])
def device(request, page):
    """The same steps on a desktop and on a phone (375 px wide, touch)."""
    if request.param == "phone":
        page.set_viewport_size(PHONE)
    return request.param
