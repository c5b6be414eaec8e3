"""The control API and page: FastAPI served by uvicorn in a thread, on 127.0.0.1 unless told otherwise.

FastAPI is only routing here: bodies are read and validated by
``harness.gameday.requests`` (every problem, each naming its field), and
every change is a command on the desk, answered by the session's thread.
Refusals carry their status (``Refused``) and become ``{"error": …,
"problems": […]}``.

Guards, for a listener that can break things: a loopback listener answers
only requests whose Host is a loopback name (a DNS-rebinding page cannot
reach it through another name); a request with an Origin must come from the
page's own origin and a body must be JSON (another site's form or script
cannot post to it); with a token (required to bind anywhere but loopback)
every request carries it, as ``Authorization: Bearer TOKEN`` or, for the
page and its event stream, ``?token=TOKEN``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from harness.errors import SpecError, StackError
from harness.gameday.desk import (
    AddFault,
    Annotate,
    Desk,
    LinkUp,
    Next,
    RemoveFault,
    SetUsers,
    StopAll,
    UpdateFault,
)
from harness.gameday.refused import Refused
from harness.gameday.requests import (
    AnnotationBody,
    EmptyBody,
    FaultBody,
    FaultPatch,
    LinkBody,
    UsersBody,
    parse_body,
    toxic_of,
)
from harness.gameday.state import Board
from harness.stack.ports import LOOPBACK
from harness.targets_policy import is_loopback_host
from toxics.catalogue import CATALOGUE
from toxics.links import LINKS, STREAMS

DEFAULT_PORT = 8090
STREAM_POLL_S = 0.2
KEEPALIVE_S = 10.0
STOP_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class ControlSettings:
    host: str = LOOPBACK
    port: int = DEFAULT_PORT
    token: str | None = None

    def __post_init__(self) -> None:
        if not is_loopback_host(self.host) and not self.token:
            raise SpecError(f"--bind {self.host}: the control API can break things; binding anywhere but "
                            "127.0.0.1 needs --token TOKEN (every request must then carry it)")

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"


class ControlServer:
    """uvicorn in a daemon thread on a socket bound here (a bind failure is said before anything runs)."""

    def __init__(self, settings: ControlSettings, desk: Desk, board: Board) -> None:
        self.settings = settings
        self.url = settings.url
        self._server = uvicorn.Server(uvicorn.Config(
            make_app(settings, desk, board), log_level="warning", access_log=False, lifespan="off",
            timeout_graceful_shutdown=2))
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        family = socket.AF_INET6 if ":" in self.settings.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.settings.host, self.settings.port))
        except OSError as exc:
            sock.close()
            raise StackError(f"the control API cannot listen on {self.settings.host}:{self.settings.port} "
                             f"({exc.strerror or exc}); choose another --control-port") from exc
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name="gameday-control", daemon=True)
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise StackError(f"the control API did not start on {self.settings.host}:{self.settings.port}")
            self._thread.join(0.05)

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_S)


def make_app(settings: ControlSettings, desk: Desk, board: Board) -> FastAPI:
    app = FastAPI(title="FlowForge game day", docs_url=None, redoc_url=None, openapi_url=None)
    page = _page()

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        refusal = refusal_of(settings, request.method, dict(request.headers), dict(request.query_params))
        if refusal is not None:
            return _refused(refusal)
        return await call_next(request)

    @app.exception_handler(Refused)
    async def refused(_: Request, exc: Refused) -> JSONResponse:
        return _refused(exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _refused(Refused(exc.status_code, str(exc.detail)))

    async def call(command: Any) -> JSONResponse:
        status, body = await asyncio.to_thread(desk.call, command)
        return JSONResponse(body, status_code=status)

    @app.get("/", response_class=HTMLResponse)
    async def index() -> HTMLResponse:
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    @app.get("/api/state")
    async def state() -> Response:
        return Response(board.read()[1], media_type="application/json", headers={"Cache-Control": "no-store"})

    @app.get("/api/events")
    async def events() -> StreamingResponse:
        return StreamingResponse(_stream(board), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @app.post("/api/faults")
    async def add_fault(request: Request) -> JSONResponse:
        body = parse_body(FaultBody, await request.body())
        toxic, level = toxic_of(body.link, body.type, body.stream, body.toxicity, body.settings)
        return await call(AddFault(toxic, level, body.revert_after_s))

    @app.patch("/api/faults/{fault_id}")
    async def update_fault(fault_id: str, request: Request) -> JSONResponse:
        body = parse_body(FaultPatch, await request.body())
        return await call(UpdateFault(fault_id, body.settings, body.toxicity, body.revert_after_s))

    @app.delete("/api/faults/{fault_id}")
    async def remove_fault(fault_id: str) -> JSONResponse:
        return await call(RemoveFault(fault_id))

    @app.post("/api/links/{link}/down")
    async def link_down(link: str, request: Request) -> JSONResponse:
        body = parse_body(LinkBody, await request.body())
        toxic, level = toxic_of(link, "down", None, None, None)
        return await call(AddFault(toxic, level, body.revert_after_s))

    @app.post("/api/links/{link}/up")
    async def link_up(link: str, request: Request) -> JSONResponse:
        parse_body(EmptyBody, await request.body())
        if link not in LINKS:
            raise Refused(422, f"link: {link!r} is not a link; known: {', '.join(LINKS)}")
        return await call(LinkUp(link))

    @app.post("/api/users")
    async def users(request: Request) -> JSONResponse:
        body = parse_body(UsersBody, await request.body())
        return await call(SetUsers(body.users, body.spawn_rate))

    @app.post("/api/annotations")
    async def annotate(request: Request) -> JSONResponse:
        body = parse_body(AnnotationBody, await request.body())
        return await call(Annotate(body.text))

    @app.post("/api/stop-all")
    async def stop_all(request: Request) -> JSONResponse:
        parse_body(EmptyBody, await request.body())
        return await call(StopAll())

    @app.post("/api/next")
    async def next_step(request: Request) -> JSONResponse:
        parse_body(EmptyBody, await request.body())
        return await call(Next())

    return app


def refusal_of(settings: ControlSettings, method: str, headers: dict[str, str],
               query: dict[str, str]) -> Refused | None:
    """Why a request is refused before it is read (None: it may pass). Pure: see the module's guards."""
    host = urlsplit(f"//{headers.get('host', '')}").hostname or ""
    if is_loopback_host(settings.host) and not is_loopback_host(host):
        return Refused(421, f"Host {headers.get('host', '')!r} is not this machine: use {settings.url}")
    if settings.token is not None:
        given = query.get("token") or headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), settings.token.encode()):
            return Refused(401, "this session needs its token: Authorization: Bearer TOKEN (or ?token=TOKEN)")
    if method in ("POST", "PATCH", "DELETE", "PUT"):
        origin = headers.get("origin")
        if origin is not None and urlsplit(origin).netloc != headers.get("host"):
            return Refused(403, f"Origin {origin} is not this page's: changes come from its own page or the CLI")
        length = headers.get("content-length", "0")
        content_type = headers.get("content-type", "")
        if length not in ("", "0") and not content_type.startswith("application/json"):
            return Refused(415, "the body must be JSON (Content-Type: application/json)")
    return None


def _refused(exc: Refused) -> JSONResponse:
    return JSONResponse({"error": str(exc), "problems": exc.problems}, status_code=exc.status)


async def _stream(board: Board) -> AsyncIterator[str]:
    """Server-sent events: the state each time it changes, a comment now and then to keep proxies open."""
    sent, idle = -1, 0.0
    while not board.closed:
        version, text = board.read()
        if version != sent:
            sent, idle = version, 0.0
            yield f"event: state\ndata: {text}\n\n"
        elif idle >= KEEPALIVE_S:
            idle = 0.0
            yield ": keep-alive\n\n"
        await asyncio.sleep(STREAM_POLL_S)
        idle += STREAM_POLL_S
    yield f"event: state\ndata: {board.read()[1]}\n\nevent: closed\ndata: {{}}\n\n"


def _page() -> str:
    """The page, with the catalogue's types and their fields (units in the names) written into it."""
    catalogue = {name: {"fields": model.model_json_schema().get("properties", {}),
                        "required": model.model_json_schema().get("required", []),
                        "disables_link": model.disables_link} for name, model in CATALOGUE.items()}
    text = resources.files("harness.gameday").joinpath("page.html").read_text(encoding="utf-8")
    return text.replace("/*CATALOGUE*/null", json.dumps({"types": catalogue, "links": list(LINKS),
                                                          "streams": list(STREAMS)}))
