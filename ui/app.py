"""The Gradio app: Chat (the agent, with its tool steps, cited sources and the molecules it handled),
Molecules (batch predictions with structures, a plot and a CSV), Design (candidate compounds for
seeds and objectives), Literature (search the index) and
Links (mined drug–disease links). Each tab is its own module; this one assembles and serves them.

Every tab reads one agent session's context (the index named by its settings, its link table and
predictors); the queue is bounded, so a request over the limit is told the app is busy instead of
waiting forever, and a request body over 1 MB (20 MB for an upload) is refused with 413 (ui/limits.py).
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from litmol.agent.session import AgentSession
from litmol.settings import ChatEndpoint, Settings

from . import chat_tab, design_tab, links_tab, literature_tab, molecules_tab
from .chat_tab import ChatModelFactory, ChatModels
from .molecules_tab import MAX_UPLOAD_MB
from .settings import default_endpoints

QUEUE_SIZE = 16  # waiting requests; one more is refused at once ("queue is full")
CSS = """
.litmol-evidence {max-height: 520px; overflow-y: auto}
footer {display: none !important}
"""


def build_app(session: AgentSession | None = None, factory: ChatModelFactory | None = None,
              default_model: str = "0.5b", endpoints: list[ChatEndpoint] | None = None) -> gr.Blocks:
    """The app over `session` (its settings name the index, link table and predictors; default: the
    loaded settings); `endpoints` is the operator's allow-list of chat models (default: the local ones)."""
    session = session or AgentSession(Settings.load())
    models = ChatModels(session, endpoints or default_endpoints(default_model, settings=session.settings.ui), factory)
    with gr.Blocks(title="litmol", delete_cache=(3600, 3600)) as app:
        gr.Markdown("## litmol · offline drug-discovery assistant\nPubMed literature and molecular property "
                    "predictions on this machine; every citation is checked against what was retrieved.")
        with gr.Tab("Chat"):
            chat_tab.build_tab(models)

        with gr.Tab("Molecules"):
            molecules_tab.build_tab(session.settings.predictors)

        with gr.Tab("Design"):
            design_tab.build_tab(session.settings.predictors)

        with gr.Tab("Literature"):
            literature_tab.build_tab(models.context)

        with gr.Tab("Links"):
            links_tab.build_tab(models.context)
    app.queue(max_size=QUEUE_SIZE, default_concurrency_limit=1)
    return app


def launch(session: AgentSession | None = None, host: str = "127.0.0.1", port: int = 7860, share: bool = False,
           auth: tuple[str, str] | None = None, factory: ChatModelFactory | None = None,
           prevent_thread_lock: bool = False, default_model: str = "0.5b", endpoints: list[ChatEndpoint] | None = None,
           **kwargs: Any):
    """Build and serve the app; returns the Blocks (its `.local_url` once running). `session`: the agent
    session whose index, link table and predictors every tab uses; `endpoints`: the chat models a
    browser may pick (default: the local ones and LITMOL_UI_ENDPOINTS)."""
    from starlette.middleware import Middleware

    from .limits import BodyLimit

    app = build_app(session, factory, default_model, endpoints)
    app_kwargs = dict(kwargs.pop("app_kwargs", None) or {})
    app_kwargs["middleware"] = [*app_kwargs.get("middleware", []),
                                Middleware(BodyLimit, upload_bytes=(MAX_UPLOAD_MB + 1) * 2**20)]
    app.launch(server_name=host, server_port=port, share=share, auth=auth, prevent_thread_lock=prevent_thread_lock,
               theme=gr.themes.Soft(), css=CSS, show_error=True, quiet=prevent_thread_lock,
               max_file_size=f"{MAX_UPLOAD_MB}mb", app_kwargs=app_kwargs, **kwargs)
    return app
