"""The opener under ``web.Client``: urllib with a cookie jar, a deadline per request, no redirects of its own.

``hardened_opener(cookies)`` is ``urlopen`` for a ``Request`` that carries a
``watchdog`` attribute (a started ``Watchdog``): every connection it opens is
shut down when the watchdog's deadline passes.  Redirects come back as answers
(``HTTPError`` 3xx), for the client to check where they lead before following.
"""

from __future__ import annotations

import functools
import http.client
import http.cookiejar
import socket
import threading
import time
import urllib.request
from typing import Callable

Opener = Callable[..., object]


class Watchdog:
    """Shuts a request's connection down when its deadline passes.

    A socket timeout bounds one read; a server that sends a byte every few
    seconds never trips it, while sending its status line, its headers, its
    body or the TLS handshake.  A timer that shuts the socket down (on a
    duplicate of it, so it works whoever holds the socket by then) ends the
    stream in every one of those phases; ``expired`` tells the reader the end
    was ours, not the server's.
    """

    def __init__(self, seconds: float):
        self.deadline = time.monotonic() + seconds
        self._fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    @property
    def expired(self) -> bool:
        return self._fired or time.monotonic() >= self.deadline

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()
        with self._lock:
            for duplicate in self._sockets:
                duplicate.close()
            self._sockets.clear()

    def watch(self, sock: socket.socket) -> None:
        duplicate = sock.dup()
        with self._lock:
            self._sockets.append(duplicate)
            fired = self._fired
        if fired:
            _shut_down(duplicate)

    def _expire(self) -> None:
        with self._lock:
            self._fired = True
            sockets = list(self._sockets)
        for duplicate in sockets:
            _shut_down(duplicate)


def _shut_down(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the other side


class _WatchedConnection:
    """An ``http.client`` connection whose socket the request's ``Watchdog`` may shut down."""

    def __init__(self, *args, watchdog: Watchdog, **kwargs):
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        # http.client keeps the function that opens the socket on the instance so it can be replaced;
        # the socket is watched from its first byte, TLS handshake included.
        connect = self._create_connection  # type: ignore[has-type]

        def watched(*connect_args, **connect_kwargs):
            sock = connect(*connect_args, **connect_kwargs)
            watchdog.watch(sock)
            return sock

        self._create_connection = watched


class _WatchedHTTPConnection(_WatchedConnection, http.client.HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnection, http.client.HTTPSConnection):
    pass


WATCHED = {http.client.HTTPConnection: _WatchedHTTPConnection, http.client.HTTPSConnection: _WatchedHTTPSConnection}


class _WatchedOpen:
    """A handler that opens a request carrying a ``watchdog`` over a watched connection."""

    def do_open(self, http_class, req, **kwargs):
        watchdog = getattr(req, "watchdog", None)
        if watchdog is not None and http_class in WATCHED:
            http_class = functools.partial(WATCHED[http_class], watchdog=watchdog)
        return super().do_open(http_class, req, **kwargs)  # type: ignore[misc]


class _WatchedHTTPHandler(_WatchedOpen, urllib.request.HTTPHandler):
    pass


class _WatchedHTTPSHandler(_WatchedOpen, urllib.request.HTTPSHandler):
    pass


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx comes back as an answer: ``Client`` follows it itself, after checking where it leads."""

    def redirect_request(self, *args, **kwargs):
        return None


def hardened_opener(cookies: http.cookiejar.CookieJar) -> Opener:
    """``urlopen`` with a cookie jar, the request's deadline enforced, and no redirects of its own."""
    return urllib.request.build_opener(
        _WatchedHTTPHandler, _WatchedHTTPSHandler, _NoRedirects, urllib.request.HTTPCookieProcessor(cookies)
    ).open
