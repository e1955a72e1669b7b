"""Chat: questions about the ledger answered from aliased facts; names never leave the app."""

from __future__ import annotations

import streamlit as st

from finlib.access import User
from finlib.chat.mentions import Mention
from finlib.chat.pipeline import ChatAnswer, ChatSession, answer_question, build_chat_session
from finlib.privacy.dealias import neutralise_markdown
from finlib.privacy.scanner import alias_text
from finlib.projects import Services
from ui import data
from ui.actions import require_ready
from ui.auth import record_chat
from ui.errors import finlib_errors
from ui.format import format_date
from ui.sidebar import page_context

SUGGESTIONS = (
    "What is the expected payment amount and date for {customer}?",
    "Who are the slowest payers?",
    "How much is overdue, and with whom?",
    "Which customers are growing?",
)
PENDING_STATE = "chat_pending_question"
# finlib's note on offline answers names the settings; the status caption at the top says that once per page,
# and the answer itself already ends with finlib's "computed without a language model" line.
NO_MODEL_NOTE = "No model is configured"
OFFLINE_STATUS = "Offline: no model configured (set LITE_LLM_API_KEY or LITE_LLM_API_BASE to use one)"


@st.cache_resource(show_spinner="Preparing the chat…", max_entries=8)
def load_chat_session(_services: Services, key: data.ViewKey, viewer: bool, _user: User) -> ChatSession:
    """Name scanner, resolver and figures of one project version as a viewer or an analyst sees it (read-only)."""
    loaded = data.load_project(_services, key, _user)
    return build_chat_session(
        key.project, loaded.ledger, loaded.aliases, _services.settings, loaded.info.currency, loaded.report.figure_notes
    )


def shown(text: str, session: ChatSession, presentation: bool) -> str:
    """Text as this screen may show it: in presentation mode every real name becomes its alias."""
    return alias_text(text, session.scanner) if presentation else text


def shown_answer(answer: ChatAnswer, presentation: bool) -> str:
    """The answer with real names, or in presentation mode the model's aliased answer, neutralised."""
    return neutralise_markdown(answer.answer_aliased) if presentation else answer.answer


def render_answer_details(answer: ChatAnswer, session: ChatSession, presentation: bool) -> None:
    """Notes, unverified numbers and the exact messages the model saw, under an answer."""
    for note in answer.notes:
        if not answer.sent and note.startswith(NO_MODEL_NOTE):
            continue  # said once, in the status caption at the top
        st.caption(shown(note, session, presentation))
    if answer.unverified:
        st.warning("Not from the data: " + ", ".join(answer.unverified), icon=":material/report:")
    label = "What the model saw" if answer.sent else "What the model would have seen (nothing was sent)"
    with st.expander(label, expanded=False):
        st.json(answer.messages, expanded=False)


context = page_context()
st.title("Chat")
require_ready(context, "chat")
project, settings = context.project, context.settings
session = load_chat_session(context.services, context.key.with_names(), context.role == "viewer", context.user)
history_key = f"chat_history_{project.name}"
history: list[ChatAnswer] = st.session_state.setdefault(history_key, [])

status = f"Model: `{settings.llm_model}`" if settings.llm_enabled else OFFLINE_STATUS
left, right = st.columns([4, 1])
left.caption(f"{status} · names are sent as aliases only · answers are checked against the data")
left.caption(
    f"Answers cover the whole project as of {format_date(session.figures.portfolio.as_of)}; the sidebar's filters "
    "and balance date do not apply to chat."
)
if right.button("Clear conversation", key="chat_clear", icon=":material/delete_sweep:", disabled=not history):
    st.session_state[history_key] = []
    st.rerun()

presentation = context.presentation
for turn in history:
    with st.chat_message("user"):
        st.markdown(shown(turn.question, session, presentation))
    with st.chat_message("assistant"):
        st.markdown(shown_answer(turn, presentation))
        render_answer_details(turn, session, presentation)

question = st.chat_input("Ask about customers, payments, forecasts…", key="chat_input")
if not history and not question and PENDING_STATE not in st.session_state:
    largest = session.figures.stats.sort_values("total_amount", ascending=False)["customer"].head(1).tolist()
    st.markdown("**Try one of these**, or type your own question below.")
    columns = st.columns(2)
    for number, template in enumerate(SUGGESTIONS):
        text = template.format(customer=largest[0] if largest else "a customer")
        label = shown(text, session, presentation)
        if columns[number % 2].button(label, key=f"chat_suggestion_{number}", width="stretch"):
            st.session_state[PENDING_STATE] = {"question": text}
            st.rerun()

pending = st.session_state.pop(PENDING_STATE, None)
if question:
    pending = {"question": question}
if pending:
    mentions: list[Mention] = session.resolver.resolve(pending["question"])
    choices = pending.get("choices", {})
    unresolved = [m for m in mentions if m.ambiguous and m.start not in choices]
    if unresolved:
        with st.chat_message("assistant"):
            st.markdown("Which one do you mean?")
            with st.form("chat_pick_form"):
                for mention in unresolved:
                    # A candidate without an alias is "the ordinary word": its label is the word itself.
                    labels = {c.real_name: (presentation and c.alias) or c.real_name for c in mention.candidates}
                    st.radio(f"'{shown(mention.text, session, presentation)}'", list(labels),
                             format_func=labels.__getitem__, key=f"chat_pick_{mention.start}")  # fmt: skip
                if st.form_submit_button("Ask"):
                    picked = {m.start: st.session_state[f"chat_pick_{m.start}"] for m in unresolved}
                    st.session_state[PENDING_STATE] = {**pending, "choices": {**choices, **picked}}
                    st.rerun()
        st.session_state[PENDING_STATE] = pending
        st.stop()
    mentions = [
        m.choose(next(c for c in m.candidates if c.real_name == choices[m.start])) if m.start in choices else m
        for m in mentions
    ]
    with st.chat_message("user"):
        st.markdown(shown(pending["question"], session, presentation))
    with st.chat_message("assistant"), finlib_errors("The question could not be answered"):
        reply = answer_question(
            session, pending["question"], settings=settings, engine=context.services.engine,
            history=history, mentions=mentions, user_email=context.user.email,
        )  # fmt: skip
        if presentation:
            # Streamed chunks carry real names; on a shared screen show the aliased answer once it is complete.
            with st.spinner("Answering…"):
                answer = reply.finish()
            st.markdown(shown_answer(answer, presentation))
        else:
            st.write_stream(reply)
            answer = reply.finish()
            record_chat(context.services, context.user, project.name, answer)
        render_answer_details(answer, session, presentation)
    history.append(answer)
