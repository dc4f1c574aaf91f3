"""The view's web server: Bokeh's server on 127.0.0.1, in a thread of its own, behind a random token.

A request needs the token, given as ``?token=...`` in the URL the shell prints (as Jupyter's) or as the
cookie the first such request sets; any other request gets 403, the page's websocket included.
"""

import asyncio
import hmac
import secrets
import threading
from collections.abc import Callable

COOKIE = "neuroshell_view"


def _token_auth(token: str):
    from bokeh.server.auth_provider import AuthProvider
    from tornado.web import HTTPError

    class TokenAuth(AuthProvider):
        @property
        def get_user_async(self):
            async def check(handler) -> str:
                given = handler.get_argument("token", "") or handler.get_cookie(COOKIE, "")
                if not hmac.compare_digest(given.encode(), token.encode()):
                    raise HTTPError(403, "a neuroshell view needs its token: open the URL the shell printed")
                if handler.get_cookie(COOKIE) != token and handler.request.headers.get("Upgrade") is None:
                    handler.set_cookie(COOKIE, token, httponly=True, samesite="Strict")
                return "viewer"

            return check

        @property
        def get_login_url(self):
            return lambda handler: "/"  # never reached: a request without the token is refused first

    return TokenAuth()


class ViewServer:
    """Serves ``page(doc)`` to every tab on 127.0.0.1 (``port`` 0: a free one); ``url`` carries the token."""

    def __init__(self, page: Callable, port: int = 0) -> None:
        self.token = secrets.token_urlsafe(24)
        self.page = page
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server = None
        self.port = port or _free_port()
        self._thread = threading.Thread(target=self._run, name="view server", daemon=True)
        self._thread.start()
        self._started.wait(30)
        if self._error is not None:
            raise self._error

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?token={self.token}"

    def _run(self) -> None:
        from bokeh.application import Application
        from bokeh.application.handlers.function import FunctionHandler
        from bokeh.server.server import Server
        from tornado.ioloop import IOLoop

        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        try:
            self._server = Server(
                {"/": Application(FunctionHandler(self.page))},
                io_loop=IOLoop.current(),
                address="127.0.0.1",
                port=self.port,
                allow_websocket_origin=[f"127.0.0.1:{self.port}", f"localhost:{self.port}"],
                auth_provider=_token_auth(self.token),
                check_unused_sessions_milliseconds=2000,
                unused_session_lifetime_milliseconds=4000,
            )
            self._server.start()
        except BaseException as error:  # said by the constructor, in the caller's thread
            self._error = error
            self._started.set()
            return
        self._started.set()
        self._loop.run_forever()
        self._loop.close()

    @property
    def tabs(self) -> int:
        """Browser tabs connected now."""
        if self._server is None:
            return 0
        return sum(len(context.sessions) for context in self._server._tornado._applications.values())

    def stop(self) -> None:
        """Close every tab's connection and the server; the thread ends."""
        if self._loop is None or not self._thread.is_alive():
            return

        def shut() -> None:
            self._server.stop()
            self._loop.stop()

        self._loop.call_soon_threadsafe(shut)
        self._thread.join(10)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
