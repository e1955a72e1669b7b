"""The Customers page's picker: every customer in one list, or a search box and the largest matches when too many."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from finlib.analytics.customer_search import offer_customers
from ui import url_state, wording
from ui.format import format_count

SELECT_KEY = "customers_select"
SEARCH_KEY = "customers_search"
# A list of every customer costs the browser about 28 bytes each to receive and far more to build (19,402 at 1M
# rows: 543 KB and most of a second); past this many, a search box finds them and the list holds the largest.
MAX_LISTED_CUSTOMERS = 1_000


def render_customer_picker(stats: pd.DataFrame) -> str:
    """Draw the picker and return the chosen customer's key (``stats`` is ``ui.data.compute_stats``'s, not empty).

    Which customer: one opened from the worklist, else the page address (on arrival), else the one shown before,
    else the top customer by revenue (the most useful first view). Keys survive presentation mode.
    """
    labels = dict(zip(stats["customer_key"], stats["customer"], strict=True))
    by_alias = dict(zip(stats["alias"].astype(str), stats["customer_key"], strict=True)) if "alias" in stats else {}
    opened = st.session_state.pop(url_state.OPEN_CUSTOMER_STATE, None)
    from_url = by_alias.get(st.query_params.get(url_state.CUSTOMER, ""))
    chosen = st.session_state.get(SELECT_KEY)
    if opened in labels:
        chosen = opened
        st.session_state[SEARCH_KEY] = ""  # an earlier search must not hide the customer asked for
    elif from_url in labels and chosen is None:
        chosen = from_url
    elif chosen not in labels:
        chosen = stats.sort_values("total_amount", ascending=False)["customer_key"].iloc[0]

    if len(labels) <= MAX_LISTED_CUSTOMERS:
        st.session_state[SELECT_KEY] = chosen
        return str(
            st.selectbox(
                f"Customer ({wording.plural(len(labels), 'customer')} in this selection; type to search)",
                list(labels),
                format_func=lambda key: labels.get(key, "?"),
                key=SELECT_KEY,
            )
        )

    search = st.text_input(
        f"Find a customer ({wording.plural(len(labels), 'customer')} in this selection)",
        key=SEARCH_KEY,
        placeholder="Type part of a name, then press Enter",
    )
    offer = offer_customers(stats, search, limit=MAX_LISTED_CUSTOMERS, current=chosen)
    if offer.chosen is None:
        st.warning(f"No customer's name contains “{search.strip()}”.", icon=":material/search_off:")
    # A new search shows its largest match at once; one that matches nothing keeps the customer shown.
    st.session_state[SELECT_KEY] = offer.chosen or chosen
    choice = st.selectbox(
        "Customer",
        list(offer.keys) or [chosen],
        format_func=lambda key: labels.get(key, "?"),
        key=SELECT_KEY,
    )
    if offer.match_count > MAX_LISTED_CUSTOMERS:
        matching = f" whose name contains “{search.strip()}”" if search.strip() else ""
        st.caption(
            f"The list holds the {format_count(MAX_LISTED_CUSTOMERS)} largest by amount invoiced of the "
            f"{format_count(offer.match_count)} customers{matching}; type part of a name above to find any other."
        )
    return str(choice)
