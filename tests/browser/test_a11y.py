"""Accessibility of every page and every scene, checked by axe-core in headless Chromium.

axe-core 4.12 comes with the axe-playwright-python package (test extra of pyproject.toml). The
rules are those of issue 11 (contrast, names of controls, language of the document); a serious
or critical violation fails the test with the element and axe's explanation. Nothing is excluded:
the Leaflet maps live in st_folium's iframes, which axe is not injected into (their controls are
checked by tests/browser/test_offline_maps.py).
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from geo import scenes
from pages.shared import PAGE_SPECS
from tests.browser.helpers import wait_for_app

RULES = [
    # contrast
    "color-contrast",
    # names of controls
    "button-name",
    "link-name",
    "label",
    "select-name",
    "input-button-name",
    "input-image-alt",
    "image-alt",
    "svg-img-alt",
    "role-img-alt",
    "frame-title",
    "aria-command-name",
    "aria-input-field-name",
    "aria-toggle-field-name",
    "aria-meter-name",
    "aria-progressbar-name",
    "aria-tooltip-name",
    "aria-dialog-name",
    "aria-treeitem-name",
    # language and title of the document
    "html-has-lang",
    "html-lang-valid",
    "html-xml-lang-mismatch",
    "valid-lang",
    "document-title",
]
SLUGS = [script.removeprefix("pages/").removesuffix(".py") for script, _, _ in PAGE_SPECS]
URLS = [("/" if slug == "home" else f"/{slug}") for slug in SLUGS] + [
    f"/?presentation=1&scene={n}" for n in range(1, len(scenes.SCENES) + 1)
]


def _report(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"  {node['target']} {node['html'][:150]}")
            lines.append(f"    {(node.get('failureSummary') or '')[:300]}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


@pytest.mark.parametrize("path", URLS)
def test_no_serious_accessibility_violation(page, dashboard, axe, path):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{dashboard}{path}")
    wait_for_app(page)
    page.wait_for_timeout(500)  # charts and the document script settle
    assert page.evaluate("document.documentElement.lang") == "fr"
    results = axe.run(
        page,
        options={"runOnly": {"type": "rule", "values": RULES}, "resultTypes": ["violations"]},
    )
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], f"{path}\n{_report(serious)}"
    # the rules ran (a renamed rule would make the check pass on nothing)
    ran = {r["id"] for r in results.response["passes"] + results.response["inapplicable"]}
    ran |= {v["id"] for v in results.response["violations"]}
    ran |= {r["id"] for r in results.response["incomplete"]}
    assert {"color-contrast", "html-has-lang", "html-lang-valid", "button-name"} <= ran
