"""The shared sidebar: project selector (kept in the URL), global filters, presentation mode and backend status."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import streamlit as st

from finlib import access
from finlib.access import LOCAL_USER, User
from finlib.analytics import periods
from finlib.config import Settings
from finlib.currency import Currency
from finlib.errors import FinlibError
from finlib.projects import LoadedProject, ProjectInfo, Services
from ui import data, frame, url_state
from ui.auth import render_account
from ui.data import LedgerFilters

PROJECT_KEY = "sidebar_project"
DATE_RANGE_KEY = "sidebar_date_range"
SERVICE_TYPE_KEY = "sidebar_service_type"
LOCATION_KEY = "sidebar_location"
SALES_MANAGER_KEY = "sidebar_sales_manager"
PRESENTATION_KEY = "sidebar_presentation_mode"
PRESENTATION_STATE = "presentation_mode"
CONTEXT_STATE = "app_context"
PENDING_PROJECT_STATE = "pending_project"
PERIOD_KEY = "sidebar_period"
AS_OF_KEY = "sidebar_as_of"
PERIOD_MONTHS = {"All": None, "12M": 12, "6M": 6, "3M": 3}
FILTER_KEYS = (PERIOD_KEY, DATE_RANGE_KEY, AS_OF_KEY, SERVICE_TYPE_KEY, LOCATION_KEY, SALES_MANAGER_KEY)
QUERY_PROJECT = "project"


@dataclass(frozen=True)
class AppContext:
    """What the frame decided for this run, handed to the page that runs inside it."""

    settings: Settings
    services: Services
    fingerprint: str
    projects: tuple[ProjectInfo, ...]
    project: ProjectInfo | None
    load_error: FinlibError | None
    filters: LedgerFilters
    presentation: bool
    user: User = LOCAL_USER
    role: str | None = "admin"  # the user's role in the selected project

    @property
    def ready(self) -> bool:
        """A project is selected and its ledger loads."""
        return self.project is not None and self.load_error is None

    @property
    def currency(self) -> Currency | None:
        """The selected project's currency (None: no project, or it states none)."""
        return self.project.currency if self.project else None

    @property
    def key(self) -> data.ViewKey:
        """The cache key of the selected project's view: version, settings and presentation mode."""
        assert self.project is not None
        return data.ViewKey(self.project.name, self.project.version, self.fingerprint, self.presentation)

    def loaded(self) -> LoadedProject:
        """The selected project's ledger (cached)."""
        return data.load_project(self.services, self.key, self.user)


def page_context() -> AppContext:
    """The context the frame stored for this run (pages call this first); a page started without the frame runs it."""
    frame.ensure_frame()
    return st.session_state[CONTEXT_STATE]


def presentation_enabled() -> bool:
    """Whether real names are replaced by aliases everywhere."""
    return bool(st.session_state.get(PRESENTATION_STATE, False))


def sync_presentation(widget_key: str) -> None:
    """Callback of every presentation-mode toggle: copy its value to the one shared flag."""
    st.session_state[PRESENTATION_STATE] = bool(st.session_state[widget_key])


def _reset_filters() -> None:
    for key in FILTER_KEYS:
        st.session_state.pop(key, None)
    url_state.clear_filters()


def _choose_project(names: list[str]) -> str | None:
    """Selected project: the widget's value, else the URL's, else the demo, else the first."""
    if not names:
        return None
    # Actions on other pages ask for a project here, since the selector may already be drawn when they run.
    pending = st.session_state.pop(PENDING_PROJECT_STATE, None)
    if pending in names:
        _reset_filters()
        return pending
    current = st.session_state.get(PROJECT_KEY)
    if current in names:
        return current
    wanted = st.query_params.get(QUERY_PROJECT)
    if wanted in names:
        return wanted
    return "demo" if "demo" in names else names[0]


def render_sidebar(
    settings: Settings,
    services: Services,
    fingerprint: str,
    *,
    show_filters: bool = True,
    user: User = LOCAL_USER,
) -> AppContext:
    """Draw the sidebar and return the context the page runs in; filters only where the page uses them."""
    if url_state.presentation_requested():
        st.session_state[PRESENTATION_STATE] = True
    infos = data.list_project_infos(services, user)
    selected = _choose_project([info.name for info in infos])
    role = access.role_in(services.engine, settings, user, selected) if selected else None
    # A viewer sees aliases only: presentation mode is forced on, whatever the toggle said.
    viewer = role == "viewer"
    presentation = presentation_enabled() or viewer
    url_state.write_presentation(presentation)
    context = AppContext(
        settings=settings,
        services=services,
        fingerprint=fingerprint,
        projects=tuple(infos),
        project=next((info for info in infos if info.name == selected), None),
        load_error=None,
        filters=LedgerFilters(),
        presentation=presentation,
        user=user,
        role=role,
    )
    with st.sidebar:
        context = _render_project(context, show_filters)
        _render_presentation(presentation, viewer)
        render_account(user, role)
        _render_status(settings)
    st.session_state[CONTEXT_STATE] = context
    return context


def _render_project(context: AppContext, show_filters: bool) -> AppContext:
    """The project selector and, when its ledger loads, the filters; the context with what they chose."""
    project = context.project
    if project is None:
        st.caption("No project yet.")
        st.page_link("pages/projects.py", label="Add a ledger", icon=":material/add_circle:")
        return context
    st.session_state[PROJECT_KEY] = project.name
    st.selectbox(
        "Project",
        [info.name for info in context.projects],
        key=PROJECT_KEY,
        on_change=_reset_filters,
        help="The ledger every page shows. The choice is kept in the page address, so a link opens it.",
    )
    st.query_params[QUERY_PROJECT] = project.name
    try:
        # Loads the ledger on a cache miss; on a hit only the small options object is copied.
        options = data.compute_filter_options(context.services, context.key)
    except FinlibError as error:
        st.warning("This project cannot be loaded. See the page for what to do.", icon=":material/warning:")
        return replace(context, load_error=error)
    if not show_filters:
        _keep_filter_state()
        return replace(context, filters=LedgerFilters(as_of=_kept_balance_date(options)))
    return replace(context, filters=_render_filters(options))


def _render_presentation(presentation: bool, viewer: bool) -> None:
    st.session_state[PRESENTATION_KEY] = presentation
    st.toggle(
        "Presentation mode",
        key=PRESENTATION_KEY,
        on_change=sync_presentation,
        args=(PRESENTATION_KEY,),
        disabled=viewer,
        help="Your role in this project is viewer: names are shown as aliases only."
        if viewer
        else "Replace every customer and person name with its alias on every page, for screen sharing.",
    )


def _apply_period(first: date, last: date) -> None:
    """Callback of the period buttons: set the date range to the N months (or all dates) up to the balance date."""
    as_of = st.session_state.get(AS_OF_KEY)
    end = as_of if isinstance(as_of, date) and first <= as_of <= last else last
    period = periods.months_ending(end, PERIOD_MONTHS.get(st.session_state.get(PERIOD_KEY) or "All"), first)
    st.session_state[DATE_RANGE_KEY] = (period.start.date(), period.end.date())


def _follow_balance_date(first: date, last: date) -> None:
    """Callback of the balance date: a chosen period button moves its period to end on the new date."""
    if st.session_state.get(PERIOD_KEY):
        _apply_period(first, last)


def _forget_period() -> None:
    st.session_state[PERIOD_KEY] = None


def _keep_filter_state() -> None:
    """Keep the filters' values while a page without filters runs (Streamlit drops state of unrendered widgets)."""
    for key in FILTER_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def _kept_balance_date(options: data.FilterOptions) -> date | None:
    """The balance date the hidden filters hold (or the address names), for pages without filters; None: latest."""
    first, last = options.first_date, options.last_date
    stored = st.session_state.get(AS_OF_KEY)
    if isinstance(stored, date) and first <= stored <= last:
        return stored
    return url_state.parse_day(st.query_params.get(url_state.AS_OF), first, last)


def _seed_from_url(options: data.FilterOptions) -> None:
    """Start the filter widgets from the page address (once per session), so a shared link opens the same view."""
    first, last = options.first_date, options.last_date
    params = st.query_params
    as_of = url_state.parse_day(params.get(url_state.AS_OF), first, last)
    if as_of:
        st.session_state[AS_OF_KEY] = as_of
    if params.get(url_state.PERIOD) in PERIOD_MONTHS:  # after the balance date: the period ends on it
        st.session_state[PERIOD_KEY] = params.get(url_state.PERIOD)
        _apply_period(first, last)
    start = url_state.parse_day(params.get(url_state.FROM), first, last)
    end = url_state.parse_day(params.get(url_state.TO), first, last)
    if start and end and start <= end:
        st.session_state[DATE_RANGE_KEY] = (start, end)
    for key, name, offered, labels in (
        (SERVICE_TYPE_KEY, url_state.SERVICE, options.service_types, None),
        (LOCATION_KEY, url_state.LOCATION, options.locations, None),
        (SALES_MANAGER_KEY, url_state.MANAGER, options.sales_managers, options.manager_aliases),
    ):
        chosen = url_state.read_choices(name, offered, labels)
        if chosen:
            st.session_state[key] = chosen


def _write_to_url(filters: LedgerFilters, options: data.FilterOptions) -> None:
    period = st.session_state.get(PERIOD_KEY)
    whole = (filters.start, filters.end) == (options.first_date, options.last_date)
    # "All" is the default unless a balance date before the ledger's end cut it short.
    url_state.write(url_state.PERIOD, period if period in PERIOD_MONTHS and not (period == "All" and whole) else None)
    custom = not period and not whole
    url_state.write(url_state.FROM, filters.start.isoformat() if custom and filters.start else None)
    url_state.write(url_state.TO, filters.end.isoformat() if custom and filters.end else None)
    as_of = filters.as_of if filters.as_of and filters.as_of != options.last_date else None
    url_state.write(url_state.AS_OF, as_of.isoformat() if as_of else None)
    url_state.write(url_state.SERVICE, list(filters.service_types))
    url_state.write(url_state.LOCATION, list(filters.locations))
    aliases = {key: alias for alias, key in options.manager_aliases.items()}
    url_state.write(url_state.MANAGER, [aliases[key] for key in filters.sales_manager_keys if key in aliases])


def _render_filters(options: data.FilterOptions) -> LedgerFilters:
    st.subheader("Filters", divider="gray")
    if url_state.first_visit():
        _seed_from_url(options)
    as_of, start, end = _render_dates(options)
    service_types, locations, managers = _render_categories(options)
    filters = LedgerFilters(
        start=start,
        end=end,
        as_of=as_of,
        service_types=service_types,
        locations=locations,
        sales_manager_keys=managers,
    )
    _write_to_url(filters, options)
    return filters


def _render_dates(options: data.FilterOptions) -> tuple[date | None, date, date]:
    """The balance date, the period buttons and the activity period: (as of, period start, period end)."""
    start, end = options.first_date, options.last_date
    stored_as_of = st.session_state.get(AS_OF_KEY)
    if not isinstance(stored_as_of, date) or not (start <= stored_as_of <= end):
        st.session_state[AS_OF_KEY] = end
    as_of = st.date_input(
        "Balances as of",
        min_value=start,
        max_value=end,
        key=AS_OF_KEY,
        format="DD/MM/YYYY",
        on_change=_follow_balance_date,
        args=(start, end),
        help="Outstanding, overdue, aging and DSO as they stood at the end of this day (default: the ledger's "
        "latest date). The period below does not change them; a period button ends its period on this day.",
    )
    st.segmented_control(
        "Period",
        list(PERIOD_MONTHS),
        key=PERIOD_KEY,
        on_change=_apply_period,
        args=(start, end),
        help="Activity (invoiced, collected, days to pay, CEI) of all dates, or of the 12, 6 or 3 months up to the "
        "balance date; compared with the period of the same length just before when the ledger covers it.",
    )
    stored = st.session_state.get(DATE_RANGE_KEY)
    if stored and any(not (start <= day <= end) for day in stored):
        # A refreshed file can cover fewer dates than the range chosen before.
        del st.session_state[DATE_RANGE_KEY]
    if DATE_RANGE_KEY not in st.session_state:
        # Seeded through session state rather than ``value=``: the browser keeps showing the range it last had
        # (e.g. the previous project's) unless the server sets the widget's value explicitly.
        st.session_state[DATE_RANGE_KEY] = (start, end)
    chosen = st.date_input(
        "Activity period",
        min_value=start,
        max_value=end,
        key=DATE_RANGE_KEY,
        format="DD/MM/YYYY",
        help="Invoices dated and payments received in this range count as the period's activity.",
        on_change=_forget_period,
    )
    if isinstance(chosen, tuple) and len(chosen) == 2:
        start, end = chosen
    return (as_of if isinstance(as_of, date) else None), start, end


def _render_categories(options: data.FilterOptions) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Service type, location and sales manager filters, each only when the ledger has values for it."""
    service_types: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    managers: tuple[str, ...] = ()
    if options.service_types:
        service_types = tuple(
            st.multiselect("Service type", options.service_types, key=SERVICE_TYPE_KEY, placeholder="All")
        )
    if options.locations:
        locations = tuple(st.multiselect("Location", options.locations, key=LOCATION_KEY, placeholder="All"))
    if options.sales_managers:
        labels = options.sales_managers
        managers = tuple(
            st.multiselect(
                "Sales manager",
                list(labels),
                key=SALES_MANAGER_KEY,
                placeholder="All",
                format_func=lambda key: labels.get(key, key),
            )
        )
    return service_types, locations, managers


def _render_status(settings: Settings) -> None:
    database = "PostgreSQL" if settings.database_backend == "postgresql" else "SQLite"
    storage = "S3" if settings.storage_backend == "s3" else "local folder"
    model = settings.llm_model if settings.llm_enabled else "offline answers"
    st.caption(
        f":material/database: Database: **{database}**  \n"
        f":material/cloud: Storage: **{storage}**  \n"
        f":material/smart_toy: Chat: **{model}**"
    )
