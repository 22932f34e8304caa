"""The preview server of ``--watch``: the output folder on loopback, and pages that reload themselves.

    >>> server = PreviewServer.start(Path("_build"), port=8765)   # a busy port falls back to a free one
    >>> server.show(html)               # every open page reloads and shows it
    >>> server.show_status("training toy_mlp")   # a line in the corner of every open page
    >>> server.close()

Built on the standard library: ``http.server`` serves the files, and one Server-Sent-Events
stream per open page (``/__watch/events``) says when to reload. ``/`` and ``/report.html``
answer with the page last shown; the small reload script is added to that answer only,
never to a file on disk, so ``report.html`` stays a clean, self-contained file.
"""
from __future__ import annotations

import errno
import html
import json
import threading
import time
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

HOST = "127.0.0.1"  # loopback only: the preview is for the person at this machine
DEFAULT_PORT = 8765
PAGES = ("/", "/report.html")  # both answer with the page last shown
EVENTS = "/__watch/events"
ASSET_PREFIX = "/__watch/"
SHUTDOWN_POLL_S = 0.1  # how soon the server notices it is asked to stop
KEEP_ALIVE_S = 10  # a comment on each idle stream this often, so a closed page is noticed

RELOAD_SCRIPT = """<script data-version="%(version)s">/* added by `python build.py --watch`; not in the file on disk */
(() => {
  let version = document.currentScript.dataset.version, events;
  const box = document.createElement("div");
  box.style.cssText = "position:fixed;right:1em;bottom:1em;max-width:40em;padding:.5em .8em;z-index:99;"
    + "background:#223;color:#fff;font:13px/1.4 sans-serif;border-radius:4px;white-space:pre-wrap;display:none";
  const say = (text) => { box.textContent = text; box.style.display = text ? "block" : "none"; };
  // The new page replaces the body in place: no navigation, figures stay loaded, the reader keeps
  // their place. A page with another head (the error page, a new title) is loaded whole.
  const swap = async () => {
    events.close();
    try {
      const reply = await fetch(location.pathname, {cache: "no-store"});
      const page = new DOMParser().parseFromString(await reply.text(), "text/html");
      const script = page.querySelector("script[data-version]");
      if (!script || page.head.innerHTML !== document.head.innerHTML) return location.reload();
      version = script.dataset.version;
      script.remove();
      document.body.replaceWith(page.body);
      document.body.appendChild(box);
    } catch (error) {
      return location.reload();
    }
    listen();
  };
  const listen = () => {
    events = new EventSource("%(events)s?since=" + encodeURIComponent(version));
    events.addEventListener("reload", swap);
    events.addEventListener("status", (e) => say(JSON.parse(e.data)));
    events.onopen = () => say("");  // the server repeats its status line to each new stream
    events.onerror = () => say("The preview server does not answer: was --watch stopped?");
  };
  document.addEventListener("DOMContentLoaded", () => document.body.appendChild(box));
  listen();
})();
</script>
"""


def inject(page: str, version: str) -> str:
    """The page with the reload script before its closing ``</body>`` (at its end if it has none)."""
    script = RELOAD_SCRIPT % {"events": EVENTS, "version": html.escape(version)}
    cut = page.rfind("</body>")
    return page + script if cut < 0 else page[:cut] + script + page[cut:]


@dataclass(frozen=True)
class Excerpt:
    """Lines of a source file around the line a message names."""

    file: str
    line: int
    lines: list[tuple[int, str]]  # (number, text)


def error_page(message: str, hint: str, excerpts: list[Excerpt], kept: str) -> str:
    """The page shown while the report cannot be rendered: the message, where, and the fix."""
    blocks = "".join(_excerpt_html(excerpt) for excerpt in excerpts)
    hint_html = f"<p><b>hint:</b> {html.escape(hint)}</p>" if hint else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Report error</title>
<style>body {{ font-family: sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; color: #222; }}
pre {{ background: #f6f6f6; padding: .6em; overflow-x: auto; }} .at {{ background: #f8d7da; font-weight: bold; }}
.message {{ background: #f8d7da; border: 1px solid #c9302c; padding: .6em 1em; white-space: pre-wrap; }}</style>
</head><body>
<h1>The report could not be rendered</h1>
<p class="message">{html.escape(message)}</p>
{hint_html}{blocks}
<p>{html.escape(kept)} Save a fix and this page shows the report again by itself.</p>
</body></html>
"""


def _excerpt_html(excerpt: Excerpt) -> str:
    rows = "".join(f'<span class="{"at" if number == excerpt.line else ""}">{number:>5}  {html.escape(text)}</span>\n'
                   for number, text in excerpt.lines)
    return f"<h2>{html.escape(excerpt.file)}, line {excerpt.line}</h2>\n<pre>{rows}</pre>\n"


class Broadcast:
    """What every open page should show: a version that changes with each new page, and a status line."""

    def __init__(self):
        self._changed = threading.Condition()
        self._session = f"{time.time_ns():x}"  # a page from an earlier --watch reloads too
        self._count, self.status, self.closed = 0, "", False

    @property
    def version(self) -> str:
        return f"{self._session}-{self._count}"

    def new_version(self) -> None:
        with self._changed:
            self._count += 1  # pragma: no mutate (versions are only compared for equality: any other step is as new)
            self._changed.notify_all()

    def set_status(self, text: str) -> None:
        with self._changed:
            self.status = text
            self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def wait(self, version: str, status: str, timeout: float) -> tuple[str, str]:
        """Return (version, status) once either differs from the given ones, or after ``timeout``."""
        with self._changed:
            self._changed.wait_for(lambda: self.closed or self.version != version or self.status != status,
                                   timeout)
            return self.version, self.status


class PreviewServer:
    """Serves ``root`` and the page last shown, on loopback, from a thread of its own."""

    def __init__(self, root: Path, httpd: ThreadingHTTPServer, broadcast: Broadcast, assets: dict[str, Path]):
        self.root, self._httpd, self.broadcast, self.assets = root, httpd, broadcast, assets
        self._page, self._page_lock = "", threading.Lock()
        self._thread = threading.Thread(target=httpd.serve_forever, args=(SHUTDOWN_POLL_S,),
                                        name="preview-server", daemon=True)  # pragma: no mutate (close() joins it)

    @classmethod
    def start(cls, root: Path, port: int = DEFAULT_PORT, assets: dict[str, Path] | None = None) -> "PreviewServer":
        """Listen on ``127.0.0.1:port``, or on a free port when that one is taken."""
        broadcast = Broadcast()
        server = cls(root, _listen(port, partial(Handler, directory=str(root))), broadcast, assets or {})
        server._httpd.preview = server
        server._thread.start()
        return server

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def show(self, page: str) -> None:
        """Make ``page`` the answer to ``/`` and tell every open page to reload."""
        with self._page_lock:
            self._page = page
            self.broadcast.new_version()

    def show_status(self, text: str) -> None:
        self.broadcast.set_status(text)

    def page(self) -> tuple[str, str]:
        """The page last shown, with the reload script for its version."""
        with self._page_lock:
            version = self.broadcast.version
            return inject(self._page, version), version

    def __enter__(self) -> "PreviewServer":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving: end every event stream, then the listening socket."""
        self.broadcast.close()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


def _listen(port: int, handler) -> ThreadingHTTPServer:
    try:
        httpd = ThreadingHTTPServer((HOST, port), handler)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        httpd = ThreadingHTTPServer((HOST, 0), handler)  # the system picks a free port
    httpd.daemon_threads = True  # pragma: no mutate (an open stream must not keep the process alive; close() ends them all first)
    return httpd


class Handler(SimpleHTTPRequestHandler):
    """``/``: the page shown; ``/__watch/events``: reload events; anything else: files of the output folder."""

    def do_GET(self):
        path = urlsplit(self.path).path
        preview: PreviewServer = self.server.preview
        if path in PAGES:
            self._send(preview.page()[0].encode("utf-8"), "text/html; charset=utf-8")
        elif path == EVENTS:
            self._stream_events(preview.broadcast)
        elif path in preview.assets:
            self._send(preview.assets[path].read_bytes(), self.guess_type(path))
        else:
            super().do_GET()

    def end_headers(self):
        # the page is new with each version; a figure is asked again but comes back "304 Not Modified"
        self.send_header("Cache-Control", "no-store" if self._is_page() else "no-cache")
        super().end_headers()

    def _is_page(self) -> bool:
        return urlsplit(self.path).path in PAGES

    def log_message(self, format, *args):  # requests are not news; errors reach the page
        pass

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream_events(self, broadcast: Broadcast) -> None:
        """Tell one page to reload once the page shown is newer than its own; relay status lines meanwhile."""
        since = parse_qs(urlsplit(self.path).query).get("since", [""])[0]
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")  # pragma: no mutate (header names and types ignore case)
        self.end_headers()
        shown = None
        try:
            while True:
                version, status = broadcast.wait(since, shown, KEEP_ALIVE_S)
                if broadcast.closed:
                    return
                if version != since:
                    self._event("reload", version)
                    return
                if status != shown:
                    self._event("status", json.dumps(status))
                    shown = status
                else:
                    self.wfile.write(b": still here\n\n")
                    self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):  # the page was closed or reloaded
            return

    def _event(self, name: str, data: str) -> None:
        self.wfile.write(f"event: {name}\ndata: {data}\n\n".encode("utf-8"))  # pragma: no mutate (codec names ignore case)
        self.wfile.flush()
