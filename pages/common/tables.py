"""Long tables and downloads: only what the view needs, only when it is asked for."""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable

import pandas as pd
import streamlit as st

from geo.formatting import fmt_int
from geo.tables import FULL_DATA_NOTE, table_page

_log = logging.getLogger("ess.pages")


def folded(label: str, *, key: str):
    """An expander whose content is built only while it is open; None while it is closed.

    A closed expander still runs and sends what it holds: a table folded this way costs the
    browser nothing until asked for (a data grid is the heaviest element of a first screen).
    Opening it reruns the page; it stays open for the session.
    """
    box = st.expander(label, key=key, on_change="rerun")
    return box if box.open else None


def paged_table(
    rows: pd.DataFrame,
    to_table: Callable[[pd.DataFrame], pd.DataFrame],
    *,
    key: str,
    note: str = FULL_DATA_NOTE,
) -> None:
    """A long table a page at a time (geo.tables.table_page), with a page picker under it.

    Only the page's rows are formatted (``to_table``) and sent to the browser; the caption says
    where the full data are (``note``: by default, the download).
    """
    state_key = f"{key}_page"
    # A new selection opens on its first page.
    signature = (len(rows), *(str(rows.index[i]) for i in (0, -1) if len(rows)))
    if st.session_state.get(f"{key}_rows") != signature:
        st.session_state[f"{key}_rows"] = signature
        st.session_state[state_key] = 1
    pager = table_page(len(rows), st.session_state.get(state_key, 1))
    st.dataframe(
        to_table(rows.iloc[pager.start : pager.stop]), hide_index=True, width="stretch", key=key
    )
    caption = pager.caption(note)
    if caption:
        st.caption(caption)
        st.session_state[state_key] = pager.page  # clamped: the selection may have shrunk
        st.columns([1, 4])[0].number_input(
            f"Page du tableau (sur {fmt_int(pager.pages)})",
            min_value=1,
            max_value=pager.pages,
            step=1,
            key=state_key,
        )


def lazy_download(
    container,
    label: str,
    build: Callable[[], bytes],
    *,
    file_name: str,
    mime: str,
    key: str,
    icon: str | None = None,
) -> None:
    """A download button whose file is built when clicked, not on every rerun.

    ``build`` runs in Streamlit's worker thread (no Streamlit call inside); it should read the
    shared cached data rather than hold a copy, so an idle session keeps no file in memory.
    Clicking does not rerun the page.
    """
    container.download_button(
        label,
        functools.partial(_built_download, build, file_name),
        file_name=file_name,
        mime=mime,
        key=key,
        on_click="ignore",
        icon=icon,
    )


def _built_download(build: Callable[[], bytes], file_name: str) -> bytes:
    """The file, or a French text saying it failed (details in the server log, never shown)."""
    try:
        return build()
    except Exception as exc:  # noqa: BLE001 - the user gets a French message in the file
        reference = uuid.uuid4().hex[:8]
        _log.error("download %s failed, reference %s", file_name, reference, exc_info=exc)
        return (
            f"Export impossible : une erreur inattendue a empêché de préparer « {file_name} ». "
            f"Réessayez, ou transmettez la référence {reference} à l'équipe du tableau de bord.\n"
        ).encode()
