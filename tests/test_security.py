"""What a hostile visitor of the served app tries, as regression tests against a real `newsrag serve` with a login
(NEWSRAG_AUTH): nothing answers before the login, the file routes serve no file of the machine, and guessing the
password stops after five wrong tries."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from served import start_server, stop_server

USER, PASSWORD = "ann", "correct horse battery"
ROOT_SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("secured")
    proc, url = start_server(tmp / "store", tmp / "serve.log", NEWSRAG_AUTH=f"{USER}:{PASSWORD}")
    try:
        yield url, tmp / "store"
    finally:
        stop_server(proc)


def status(url: str, opener: urllib.request.OpenerDirector | None = None, data: bytes | None = None) -> int:
    try:
        with (opener or urllib.request.build_opener()).open(url, data=data, timeout=30) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def login(url: str, password: str) -> tuple[int, urllib.request.OpenerDirector]:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    form = urllib.parse.urlencode({"username": USER, "password": password}).encode()
    return status(url + "login", opener, form), opener


ASK = b'{"data": ["What did Lavrov say in Manila?", "[]"]}'


def test_before_logging_in_the_app_its_api_and_its_files_answer_401(server):
    url, data_dir = server
    for path in ("config", "gradio_api/info", "gradio_api/queue/status", "gradio_api/file=/etc/passwd",
                 f"gradio_api/file={data_dir}/chroma/chroma.sqlite3"):
        assert status(url + path) == 401, path
    request = urllib.request.Request(url + "gradio_api/call/ask", data=ASK,
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=30)
    assert info.value.code == 401


def test_logged_in_the_file_routes_serve_no_file_of_the_machine(server):
    url, data_dir = server
    code, opener = login(url, PASSWORD)
    assert code == 200 and status(url + "gradio_api/info", opener) == 200
    seed = next(ROOT_SEEDS.glob("*.txt"), None)
    probes = ["/etc/passwd", "../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", f"{data_dir}/chroma/chroma.sqlite3",
              f"{data_dir}/writer.lock", "/proc/self/environ", str(seed) if seed else "/etc/hostname"]
    for probe in probes:
        assert status(f"{url}gradio_api/file={probe}", opener) in (403, 404), probe
    assert status(url + "file=/etc/passwd", opener) in (403, 404)


def test_a_question_of_100_kb_is_refused_at_once_with_the_limit_named(server):
    from gradio_client import Client

    url, _ = server
    client = Client(url, auth=(USER, PASSWORD), verbose=False)
    question = " ".join(["Why?"] * 21_000)  # 104,999 characters
    with pytest.raises(Exception, match=r"The question is 104,999 characters long; the limit is 1,000"):
        client.predict(question, "[]", api_name="/ask")
    assert "Lavrov" in client.predict("What did Lavrov say in Manila?", "[]", api_name="/ask")["answer"]


def test_after_five_wrong_passwords_even_the_right_one_is_refused_for_a_while(server):  # last: it locks the login
    url, _ = server
    codes = [login(url, f"guess {n}")[0] for n in range(5)]
    assert codes == [400] * 5  # Gradio's "Incorrect credentials."
    code, opener = login(url, PASSWORD)
    assert code == 400 and status(url + "gradio_api/info", opener) == 401
