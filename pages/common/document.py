"""What the whole browser document gets: the presentation mode, styles where Streamlit has no
option, and one script (French document language, a scene's keys and window size).
"""

from __future__ import annotations

import streamlit as st


def presentation_mode() -> bool:
    """Projector mode (?presentation=1): no sidebar, larger type, for public events."""
    return st.query_params.get("presentation") == "1"


def set_presentation(on: bool | None = None) -> None:
    """Callback of the presentation toggle and of the exit button."""
    if on is None:
        on = bool(st.session_state.get("presentation_toggle"))
    if on:
        st.query_params["presentation"] = "1"
    elif "presentation" in st.query_params:
        del st.query_params["presentation"]


# Styles through Streamlit's internal test ids, only where no public option exists (hiding the
# sidebar and the top bar, the page's padding, metric size, the uploader's English captions).
# tests/browser/test_styling.py and tests/browser/test_presentation.py check each one through
# what the user sees, so a Streamlit release that renames an id fails loudly.
_PRESENTATION_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] {display: none;}
html {font-size: 20px;}
[data-testid="stMetricValue"] {font-size: 3rem;}
</style>"""

# The scenes of pages/presentation.py use the whole screen: no top bar (its menu is of no use to
# an audience), little padding, a smaller title than a page's.
_SCENE_CSS = """<style>
[data-testid="stHeader"] {display: none;}
[data-testid="stMainBlockContainer"] {padding: 0.6rem 1.5rem 0.4rem 1.5rem; max-width: none;}
[data-testid="stMain"] h1 {font-size: 1.9rem; padding: 0;}
[data-testid="stMetricValue"] {font-size: 2.6rem;}
.ess-scene-sources {font-size: 0.6rem; line-height: 1.3; color: #4a4a4a; margin: 0;}
</style>"""


# Streamlit's file uploader has English captions and no option to translate them.
_FRENCH_UPLOADER_CSS = """<style>
[data-testid="stFileUploaderDropzone"] button p {font-size: 0;}
[data-testid="stFileUploaderDropzone"] button p::after {content: "Choisir un fichier";
  font-size: 0.875rem;}
[data-testid="stFileUploaderDropzoneInstructions"] span {font-size: 0;}
[data-testid="stFileUploaderDropzoneInstructions"] span::after {
  content: "ou déposer ici · 50 Mo maximum"; font-size: 0.8rem;}
</style>"""


# One small script shared by every page, through the public components API (it runs in the app's
# document, not in an iframe): declares the document French (Streamlit's index.html says
# lang="en"); on the presentation's scenes it also turns the speaker's keys into moves and
# reports the window's size, so that a scene's map or chart fills the screen without scrolling.
# Keys typed in a field (text, number, select, slider, tabs) are left to the field.
_DOCUMENT_JS = """
export default function (component) {
  const { data, setTriggerValue, setStateValue } = component;
  document.documentElement.lang = "fr";
  const options = data || {};
  const previous = window.__essDocumentCleanup;
  if (previous) previous();
  const cleanups = [];
  if (options.moves) {
    const FIELDS = 'input, textarea, select, [contenteditable=""], [contenteditable="true"], ' +
      '[role="slider"], [role="combobox"], [role="listbox"], [role="textbox"], ' +
      '[role="spinbutton"], [role="tab"], [role="grid"]';
    const typing = (event) => {
      const target = (event.composedPath && event.composedPath()[0]) || event.target;
      return !!(target && target.closest && (target.closest(FIELDS) || target.isContentEditable));
    };
    const onKey = (event) => {
      if (event.defaultPrevented || event.repeat) return;
      if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
      const move = options.moves[event.key];
      if (!move || typing(event)) return;
      event.preventDefault();
      setTriggerValue("move", move);
    };
    document.addEventListener("keydown", onKey);
    cleanups.push(() => document.removeEventListener("keydown", onKey));
  }
  if (options.viewport) {
    let last = "";
    let timer = null;
    const report = () => {
      const size = { width: window.innerWidth, height: window.innerHeight };
      const text = size.width + "x" + size.height;
      if (text !== last) {
        last = text;
        setStateValue("viewport", size);
      }
    };
    const onResize = () => {
      clearTimeout(timer);
      timer = setTimeout(report, 300);
    };
    report();
    window.addEventListener("resize", onResize);
    cleanups.push(() => window.removeEventListener("resize", onResize));
  }
  const cleanup = () => {
    cleanups.forEach((f) => f());
    cleanups.length = 0;
  };
  window.__essDocumentCleanup = cleanup;
  return cleanup;
}
"""
_document_component = st.components.v2.component("ess_document", js=_DOCUMENT_JS)


def document_hooks(
    moves: dict[str, str] | None = None, viewport: bool = False
) -> tuple[str | None, dict | None]:
    """Mounts the document script; returns (the move a key just asked for, the window's size).

    ``moves`` maps KeyboardEvent.key names to moves (geo.scenes.KEY_MOVES); ``viewport`` asks
    for the window's size (None until the browser has reported it).
    """
    callbacks = {}
    if moves:
        callbacks["on_move_change"] = _ignore
    if viewport:
        callbacks["on_viewport_change"] = _ignore
    result = _document_component(
        key="ess_document",
        data={"moves": moves or {}, "viewport": viewport},
        height=0,
        **callbacks,
    )
    move = getattr(result, "move", None) if moves else None
    size = getattr(result, "viewport", None) if viewport else None
    return move, size if isinstance(size, dict) else None


def _ignore() -> None:
    """A component's value is read from its result; Streamlit wants a callback to send it."""


def chart_text_scale() -> float:
    """Charts' text size relative to a page's: larger on a projector (presentation mode)."""
    return 1.5 if presentation_mode() else 1.0


def page_styles() -> None:
    """What every page's document gets: the uploader in French, the document script, and the
    projector's styles in presentation mode."""
    st.html(_FRENCH_UPLOADER_CSS)
    document_hooks()
    if presentation_mode():
        presentation_styles()


def presentation_styles(scene: bool = False) -> None:
    """The projector's styles: no sidebar, larger type; a scene also gets the whole screen."""
    st.html(_PRESENTATION_CSS + (_SCENE_CSS if scene else ""))
