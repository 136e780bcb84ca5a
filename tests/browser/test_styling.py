"""Styles that rely on Streamlit's internal test ids (no public option exists for them).

Each one is checked through what the user sees, never through the test id itself, so a
Streamlit release that renames the id makes these tests fail loudly instead of passing on an
empty locator. The ids are in pages/common/document.py: _PRESENTATION_CSS and _FRENCH_UPLOADER_CSS.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_pages import open_page

UPLOADER_TEXTS = """
() => {
  const input = document.querySelector('input[type="file"]');
  const zone = input.closest('section') || input.parentElement.parentElement;
  const button = zone.querySelector('button');
  const label = button.querySelector('p') || button;
  const instructions = [...zone.querySelectorAll('span')]
    .filter(s => !s.closest('button') && !s.children.length)[0];
  const after = (el) => el ? getComputedStyle(el, '::after').content : null;
  return {
    button: after(label), buttonSize: getComputedStyle(label).fontSize,
    instructions: after(instructions),
    instructionsSize: instructions ? getComputedStyle(instructions).fontSize : null,
  };
}
"""


def test_the_file_uploader_speaks_french(page, dashboard):
    open_page(page, f"{dashboard}/importer")
    texts = page.evaluate(UPLOADER_TEXTS)
    assert texts["button"] == '"Choisir un fichier"', texts
    assert texts["buttonSize"] == "0px", texts  # the English caption is hidden
    assert texts["instructions"] == '"ou déposer ici · 50 Mo maximum"', texts
    assert texts["instructionsSize"] == "0px", texts


def _metric_value_px(page, label: str) -> float:
    """Font size of the value of the st.metric whose label is `label`."""
    handle = page.get_by_text(label, exact=True).first.element_handle()
    return page.evaluate(
        "(el) => parseFloat(getComputedStyle("
        "el.closest('label').parentElement.lastElementChild).fontSize)",
        handle,
    )


def test_presentation_mode_hides_the_menu_and_enlarges_the_figures(page, dashboard):
    open_page(page, f"{dashboard}/?annees=2021-2023")
    expect(page.get_by_role("link", name="Carte des structures financées")).to_be_visible()
    normal = _metric_value_px(page, "Montant engagé")
    # the home page itself in presentation style (the app's root opens the scenes instead)
    open_page(page, f"{dashboard}/home?annees=2021-2023&presentation=1")
    expect(page.get_by_role("link", name="Carte des structures financées")).to_be_hidden()
    enlarged = _metric_value_px(page, "Montant engagé")
    # 3rem at the 20 px root: without the stMetricValue rule it would only reach 2.25rem (45 px)
    assert enlarged > 1.5 * normal, (normal, enlarged)
