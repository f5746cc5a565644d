"""Issue 13's attacks on the web chat, the /ask API and --history (items 4, 5, 10, 11, 13),
each against the real parts: `python app.py` on loopback over a real index
(attack_server.py) and the real CLI. Uploads (items 6 and 14) are test_attacks_uploads.py;
the browser half (items 7, 13, 15, and uploads through the page) is test_attacks_browser.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from askfront.assistant import Assistant
from askfront.core.config import Settings
from askfront.core.errors import IndexLockedError, QuestionError
from askfront.core.history import bound_history, parse_history
from attack_server import DOOMED_FN, LEGION, WAIT_S, AttackServer, LockHolder
from fakes import FakeAssistant

gr = pytest.importorskip("gradio")
ANSWER_KEYS = {"answer", "refused", "citations", "timings_ms", "sentences", "related", "notice"}


def _ask(client: httpx.Client, *data: Any) -> httpx.Response:
    # ASCII JSON: a lone surrogate travels as the escape "\ud800", as a client would send it.
    body = json.dumps({"data": list(data)}).encode("ascii")
    headers = {"Content-Type": "application/json"}
    return client.post("/gradio_api/run/ask", content=body, headers=headers)


def _answer(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    (answer,) = response.json()["data"]
    assert set(answer) >= ANSWER_KEYS
    return dict(answer)


# == 4. History is bounded before any work =====================================================
def test_a_6mb_history_is_refused_before_any_work(attack_server: AttackServer) -> None:
    huge = json.dumps([{"role": "user", "content": "legion " * 860_000}])  # ~6 MB, one turn
    with attack_server.client() as client:
        answer = _answer(_ask(client, LEGION, huge))
    assert answer["refused"] is True
    assert "the limit is 20,000 characters" in answer["notice"]
    assert "ASKFRONT_MAX_HISTORY_CHARS" in answer["notice"]


def test_history_length_is_checked_before_it_is_decoded() -> None:
    # Broken JSON past the limit: the size is what is reported, so it was never decoded.
    with pytest.raises(QuestionError, match=r"30,001 characters long; the limit is 20,000"):
        parse_history("[" + "x" * 30_000, max_chars=20_000)
    with pytest.raises(QuestionError, match="nested too deeply"):
        parse_history("[" * 15_000, max_chars=20_000)


def test_a_long_conversation_keeps_its_latest_turns(seed_assistant: Assistant) -> None:
    turns = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"Turn {i} about the legion."}
        for i in range(30)
    ]
    kept, dropped = bound_history(turns, max_turns=20, max_chars=20_000)
    assert kept == turns[-20:] and dropped == 10
    answer = seed_assistant.ask(LEGION, turns)
    assert not answer.refused and "Only the last 20 turns" in (answer.notice or "")


def test_the_web_chat_session_keeps_only_the_turns_it_sends(fake_assistant: FakeAssistant) -> None:
    from askfront.web.chat import WebChat

    settings = fake_assistant.settings.model_copy(update={"max_history_turns": 4})
    chat = WebChat(fake_assistant, settings)
    state = None
    for _ in range(3):
        *_, (_, _, state, _) = chat.respond(LEGION, [], state)
    assert state is not None and len(state.turns) == 4


# == 5. DNS rebinding and cross-site writes ===================================================
def _dependency(config: dict[str, Any], elem_id: str, event: str) -> dict[str, Any]:
    (component,) = [c for c in config["components"] if c["props"].get("elem_id") == elem_id]
    return next(d for d in config["dependencies"] if [component["id"], event] in d["targets"])


def _documents_view(config: dict[str, Any]) -> dict[str, Any]:
    return next(d for d in config["dependencies"] if d["api_name"] == "documents_view")


def _queue_run(client: httpx.Client, fn_index: int, data: list[Any], session: str) -> Any:
    """Run an event as the page does (join the queue, read its event stream)."""
    joined = client.post(
        "/gradio_api/queue/join",
        json={"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None},
    )
    assert joined.status_code == 200, joined.text
    params = {"session_hash": session}
    with client.stream("GET", "/gradio_api/queue/data", params=params) as stream:
        for line in stream.iter_lines():
            message = json.loads(line[5:]) if line.startswith("data:") else {}
            if message.get("msg") == "process_completed":
                return message
    raise AssertionError("the event stream ended without process_completed")


def test_a_dns_rebinding_page_is_refused(attack_server: AttackServer) -> None:
    with attack_server.client() as plain:
        delete = _dependency(plain.get("/config").json(), "delete", "click")
    rebound = f"a.example:{attack_server.port}"
    headers = {"Host": rebound, "Origin": f"http://{rebound}"}
    with attack_server.client(headers=headers) as client:
        page = client.get("/")
        config = client.get("/config")
        posted = client.post(
            "/gradio_api/run/ask",
            json={"data": [DOOMED_FN], "fn_index": delete["id"], "session_hash": "rebind"},
        )
    for response in (page, config, posted):
        assert response.status_code == 400
        assert "ASKFRONT_ALLOWED_HOSTS" in response.text
    assert (attack_server.corpus / DOOMED_FN).exists()


def test_the_loopback_names_of_the_server_are_served(attack_server: AttackServer) -> None:
    for host in ("127.0.0.1", "localhost"):
        with attack_server.client(headers={"Host": f"{host}:{attack_server.port}"}) as client:
            assert client.get("/").status_code == 200


def test_a_foreign_origin_cannot_delete_by_fn_index(attack_server: AttackServer) -> None:
    """The issue's attack: fill the delete list of a session, then delete through the ask
    API's route by fn_index; from another site's page, every step is refused."""
    with attack_server.client() as plain:
        config = plain.get("/config").json()
    delete = _dependency(config, "delete", "click")
    listing = _documents_view(config)
    evil = {"Origin": "http://evil.example"}
    with attack_server.client(headers=evil) as client:
        for fn, data in ((listing, []), (delete, [DOOMED_FN])):
            body = {"data": data, "fn_index": fn["id"], "session_hash": "evil-session"}
            response = client.post("/gradio_api/run/ask", json=body)
            assert response.status_code == 403, response.text
            assert "may not change data" in response.text
        upload = client.post("/gradio_api/upload", files={"files": ("x.txt", b"x")})
        assert upload.status_code == 403
    assert (attack_server.corpus / DOOMED_FN).exists()


def test_write_events_do_not_run_through_an_api_route(attack_server: AttackServer) -> None:
    """Not even without an Origin (curl): the ask route by fn_index and /call/<name> refuse
    the delete, for a session whose delete list was filled the way the page fills it."""
    with attack_server.client() as client:
        config = client.get("/config").json()
        delete = _dependency(config, "delete", "click")
        _queue_run(client, _documents_view(config)["id"], [], "curl-session")
        body = {"data": [DOOMED_FN], "fn_index": delete["id"], "session_hash": "curl-session"}
        by_index = client.post("/gradio_api/run/ask", json=body)
        name = delete["api_name"]
        called = client.post(
            f"/gradio_api/call/{name}", json={"data": [DOOMED_FN], "session_hash": "curl-session"}
        )
        assert called.status_code == 200, called.text
        result = client.get(f"/gradio_api/call/{name}/{called.json()['event_id']}").text
    assert by_index.status_code == 404, by_index.text
    assert "event: error" in result and "only from the web page" in result
    assert (attack_server.corpus / DOOMED_FN).exists()


def test_the_ask_api_still_answers(attack_server: AttackServer) -> None:
    with attack_server.client() as client:
        answer = _answer(_ask(client, LEGION, "[]"))
    assert not answer["refused"] and answer["citations"]


# == 10. Input of the wrong type gets a clear answer, not a 500 ================================
@pytest.mark.parametrize(
    ("question", "history", "refused", "notice"),
    [
        (123, "[]", True, "The question must be text, not int."),
        ({"text": LEGION}, "[]", True, "The question must be text, not dict."),
        (LEGION, [{"role": "user", "content": "And the legion?"}], False, None),
        (LEGION, "[" + "9" * 5000 + "]", True, "history_json is not valid JSON"),
        (LEGION, 5, True, "history_json must be a JSON list"),
        ("\ud800 " + LEGION, "[]", False, None),
        (LEGION, json.dumps([{"role": "user", "content": "\udfff legion"}]), False, None),
    ],
    ids=["int", "object", "list-history", "5000-digits", "int-history", "surrogate", "surr-hist"],
)
def test_wrong_input_types_get_a_clear_answer(
    attack_server: AttackServer, question: Any, history: Any, refused: bool, notice: str | None
) -> None:
    before = attack_server.log_size()
    with attack_server.client() as client:
        answer = _answer(_ask(client, question, history))
    assert answer["refused"] is refused
    if notice:
        assert notice in answer["notice"]
    assert "Traceback" not in attack_server.log_since(before)


# == 11. --history in the CLI ====================================================================
@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[" * 100_000, "100,000 bytes long; the limit is 20,000 characters"),
        ("[" * 15_000, "nested too deeply"),
        ("[" + "9" * 5000 + "]", "not valid JSON"),
    ],
    ids=["100k-brackets", "deep", "5000-digits"],
)
def test_cli_history_that_cannot_be_used_is_a_clear_message(
    tmp_path: Path, content: str, message: str
) -> None:
    history = tmp_path / "history.json"
    history.write_text(content, encoding="utf-8")
    done = _cli(tmp_path, "ask", LEGION, "--history", str(history))
    assert done.returncode == 1
    assert message in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr and "RecursionError" not in done.stderr


def test_cli_refuses_a_huge_history_file_without_reading_it(tmp_path: Path) -> None:
    history = tmp_path / "history.json"
    with history.open("wb") as f:
        f.truncate(50_000_000)  # sparse: 50 MB that take no room
    done = _cli(tmp_path, "ask", LEGION, "--history", str(history))
    assert done.returncode == 1
    assert "50,000,000 bytes long" in done.stderr.replace("\n", "")
    assert "ASKFRONT_MAX_HISTORY_CHARS" in done.stderr.replace("\n", "")


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cli = Path(sys.executable).with_name("askfront")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    return subprocess.run(
        [str(cli), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=WAIT_S
    )


# == 13. Delete while another process holds the index lock =======================================
@pytest.fixture
def lock_holder() -> Iterator[Callable[[Path], LockHolder]]:
    holders: list[LockHolder] = []

    def hold(index_dir: Path) -> LockHolder:
        holders.append(LockHolder(index_dir))
        return holders[-1]

    yield hold
    for holder in holders:
        holder.release()


def test_delete_under_a_held_lock_touches_nothing_then_works(
    settings: Settings, real_embeddings: Any, lock_holder: Callable[[Path], LockHolder]
) -> None:
    doomed = settings.corpus_dir / "doomed.txt"
    doomed.write_text("The doomed article is about zebras.\n", encoding="utf-8")
    assistant = Assistant(settings, embeddings=real_embeddings)
    assistant.reindex()
    holder = lock_holder(settings.index_dir)
    with pytest.raises(IndexLockedError, match=r"doomed\.txt was not deleted\. Another rebuild"):
        assistant.delete_document("doomed.txt")
    assert doomed.exists()
    assert "doomed.txt" in [r.path for r in assistant.documents()]
    holder.release()
    report = assistant.delete_document("doomed.txt")
    assert not doomed.exists() and report.counts["deleted"] == 1
    assert "doomed.txt" not in [r.path for r in assistant.documents()]
