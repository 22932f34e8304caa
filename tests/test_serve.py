"""The preview server: loopback only, the page shown with its reload script, the folder's files
as they are on disk, and event streams that tell open pages to reload."""
import http.client
import socket
import threading
import time
import urllib.request

import pytest

from report.serve import EVENTS, HOST, Excerpt, PreviewServer, error_page, inject

PAGE = "<!DOCTYPE html><html><head><title>r</title></head><body><p>The report.</p></body></html>"


@pytest.fixture
def server(tmp_path):
    with PreviewServer.start(tmp_path, port=0) as running:
        yield running


def get(url: str) -> tuple[str, dict]:
    with urllib.request.urlopen(url, timeout=10) as reply:
        return reply.read().decode(), dict(reply.headers)


def open_events(server: PreviewServer, since: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection(HOST, server.port, timeout=10)
    connection.request("GET", f"{EVENTS}?since={since}")
    return connection.getresponse()


def read_event(stream: http.client.HTTPResponse) -> tuple[str, str]:
    """The next event (name, data), skipping keep-alive comments."""
    fields, deadline = {}, time.monotonic() + 5
    while True:
        assert time.monotonic() < deadline, "no event, only keep-alive comments"
        line = stream.readline().decode().rstrip("\n")
        if not line and fields:
            return fields.get("event", ""), fields.get("data", "")
        if line and not line.startswith(":"):
            name, _, value = line.partition(": ")
            fields[name] = value


def test_the_reload_script_goes_before_the_closing_body_tag_or_at_the_end():
    page = inject(PAGE, "v-1")
    assert page.index('data-version="v-1"') < page.index("</body>") and page.startswith(PAGE[:-14])
    assert inject("<p>no body tag</p>", "v-1").startswith("<p>no body tag</p><script")


def test_the_server_listens_on_loopback_only(server):
    assert server.url == f"http://127.0.0.1:{server.port}/" and server._httpd.server_address[0] == "127.0.0.1"


def test_a_port_in_use_falls_back_to_a_free_one(tmp_path):
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        with PreviewServer.start(tmp_path, port=taken.getsockname()[1]) as server:
            assert server.port not in (0, taken.getsockname()[1])
            assert "The report." not in get(server.url)[0]  # it answers


def test_the_page_shown_is_served_with_the_script_and_the_file_on_disk_is_left_clean(server, tmp_path):
    (tmp_path / "report.html").write_text(PAGE)
    (tmp_path / "notes.txt").write_text("as on disk")
    server.show(PAGE.replace("The report.", "The new report."))
    for path in ("", "report.html"):
        body, headers = get(server.url + path)
        assert "The new report." in body and "new EventSource" in body and headers["Cache-Control"] == "no-store"
    assert get(server.url + "notes.txt")[0] == "as on disk"
    assert (tmp_path / "report.html").read_text() == PAGE


def test_an_open_page_is_told_to_reload_when_a_new_page_is_shown(server):
    server.show(PAGE)
    stream = open_events(server, server.broadcast.version)
    assert read_event(stream) == ("status", '""')  # the status line, empty: nothing is running
    threading.Timer(0.2, server.show, [PAGE]).start()
    name, version = read_event(stream)
    assert name == "reload" and version == server.broadcast.version


def test_a_page_older_than_the_page_shown_reloads_at_once(server):
    server.show(PAGE)
    old = server.broadcast.version
    server.show(PAGE)
    assert read_event(open_events(server, old))[0] == "reload"


def test_status_lines_reach_open_pages(server):
    stream = open_events(server, server.broadcast.version)
    read_event(stream)
    server.show_status("Retraining (3 s): running toy_mlp[seed=0]")
    assert read_event(stream) == ("status", '"Retraining (3 s): running toy_mlp[seed=0]"')


def test_closing_ends_the_open_event_streams(tmp_path):
    server = PreviewServer.start(tmp_path, port=0)
    stream = open_events(server, server.broadcast.version)
    read_event(stream)
    start = time.monotonic()
    server.close()
    assert stream.read() == b"" and time.monotonic() - start < 5


def test_the_error_page_names_the_file_and_line_marks_the_line_and_escapes_the_text():
    excerpt = Excerpt("templates/t.qmd.j2", 2, [(1, "Intro"), (2, "{{ x <b> }}"), (3, "End")])
    page = error_page("t.qmd.j2:2: undefined value: 'x' is undefined", "check the name", [excerpt], "Kept.")
    assert "t.qmd.j2:2: undefined value: &#x27;x&#x27; is undefined" in page and "<b>hint:</b> check the name" in page
    assert "<h2>templates/t.qmd.j2, line 2</h2>" in page
    assert '<span class="at">    2  {{ x &lt;b&gt; }}</span>' in page and '<span class="">    1  Intro</span>' in page


def test_the_reload_script_goes_before_the_last_closing_body_tag_even_at_the_very_start():
    assert inject("</body>", "v-1").endswith("</script>\n</body>")
    page = inject('<body><p>"</body>" ends a page.</p></body>', "v-1")
    assert page.startswith('<body><p>"</body>" ends a page.</p><script') and page.endswith("</script>\n</body>")


def test_an_error_without_a_hint_shows_no_hint_line():
    page = error_page("it broke", "", [], "Kept.")
    assert '<p class="message">it broke</p>\n\n<p>Kept. Save a fix' in page and "hint:" not in page


def test_before_a_page_is_shown_the_server_answers_with_the_reload_script_alone(server):
    assert get(server.url)[0] == inject("", server.broadcast.version)


def test_each_answer_says_its_type_and_length_and_files_are_asked_again_each_time(tmp_path):
    css = tmp_path / "style.css"
    css.write_text("body { color: #222; }")
    (tmp_path / "notes.txt").write_text("as on disk")
    with PreviewServer.start(tmp_path, port=0, assets={"/__watch/report.css": css}) as server:
        server.show(PAGE)
        body, headers = get(server.url)
        assert headers["Content-Type"] == "text/html; charset=utf-8" and headers["Content-Length"] == str(len(body))
        body, headers = get(server.url + "__watch/report.css")
        assert body == "body { color: #222; }" and headers["Content-Type"] == "text/css"
        assert headers["Content-Length"] == "21" and headers["Cache-Control"] == "no-cache"
        assert get(server.url + "notes.txt")[1]["Cache-Control"] == "no-cache"


def test_an_idle_event_stream_gets_a_comment_now_and_then_so_a_closed_page_is_noticed(server, monkeypatch):
    monkeypatch.setattr("report.serve.KEEP_ALIVE_S", 0.05)
    stream = open_events(server, server.broadcast.version)
    assert stream.getheader("Content-Type") == "text/event-stream"
    read_event(stream)
    assert stream.readline() == b": still here\n" and stream.readline() == b"\n"


def test_a_page_that_names_no_version_reloads_at_once(server):
    server.show(PAGE)
    connection = http.client.HTTPConnection(HOST, server.port, timeout=10)
    connection.request("GET", EVENTS)
    assert read_event(connection.getresponse()) == ("reload", server.broadcast.version)


def test_the_error_page_shows_each_excerpt_in_turn():
    excerpts = [Excerpt("a.py", 1, [(1, "a")]), Excerpt("b.py", 2, [(2, "b")])]
    page = error_page("two places", "", excerpts, "Kept.")
    assert '<span class="at">    1  a</span>\n</pre>\n<h2>b.py, line 2</h2>' in page
