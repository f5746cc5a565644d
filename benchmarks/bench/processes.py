"""The parent's side: child processes, the served app, and the load average."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common import CHILD_ENV, HERE, WORKER_TIMEOUT, Json, latency, now

# -- the parent: child processes and their measurements -------------------------------------


@dataclass
class Child:
    seconds: float
    returncode: int
    maxrss_mb: float


class Runner:
    """Starts child processes in a scratch folder with a clean, offline environment."""

    def __init__(
        self, root: Path, verbose: bool, load_clients: int = 0, load_per_client: int = 0
    ) -> None:
        self.root = root
        self.load_clients = load_clients
        self.load_per_client = load_per_client
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.verbose = verbose
        self.counter = 0
        # ASKFRONT_* from the caller's shell would skew the comparison; only ours apply.
        base = {k: v for k, v in os.environ.items() if not k.startswith("ASKFRONT_")}
        self.env = {**base, **CHILD_ENV}
        self.cwd = root / "cwd"  # no .env file here
        self.cwd.mkdir(exist_ok=True)
        self.askfront = Path(sys.executable).parent / "askfront"

    def log_path(self, name: str) -> Path:
        self.counter += 1
        return self.logs / f"{self.counter:03d}-{name}.log"

    def child(
        self,
        args: Sequence[str],
        log: Path,
        *,
        stdout: Path | None = None,
        env: dict[str, str] | None = None,
        timeout: float = WORKER_TIMEOUT,
    ) -> Child:
        """Run a child to completion; wall time, exit code and its own peak RSS (wait4)."""
        with open(log, "ab") as err, open(stdout or log, "ab") as out:
            started = now()
            proc = subprocess.Popen(
                list(args), stdout=out, stderr=err, env={**self.env, **(env or {})}, cwd=self.cwd
            )
            timer = threading.Timer(timeout, proc.kill)
            timer.start()
            try:
                _, status, usage = os.wait4(proc.pid, 0)
            finally:
                timer.cancel()
            seconds = now() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        return Child(seconds, proc.returncode, usage.ru_maxrss / 1024.0)

    def worker(self, name: str, spec: Json, env: dict[str, str] | None = None) -> Json:
        log = self.log_path(name)
        spec_path = log.with_suffix(".spec.json")
        result_path = log.with_suffix(".result.json")
        spec_path.write_text(json.dumps({**spec, "result": str(result_path)}))
        self._say(f"  {name} ...")
        child = self.child(
            [sys.executable, str(HERE / "run.py"), "--worker", name, str(spec_path)],
            log,
            env=env,
        )
        if child.returncode != 0 or not result_path.is_file():
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"worker {name} failed (exit {child.returncode}):\n{tail}")
        result: Json = json.loads(result_path.read_text())
        result["process_s"] = child.seconds
        result["process_maxrss_mb"] = child.maxrss_mb
        self._say(f"  {name} done in {child.seconds:.1f} s")
        return result

    def cold_ask(self, index: Path, question: str) -> Json:
        """`askfront ask QUESTION --index DIR --json` from a fresh process, wall time."""
        log = self.log_path("cold-ask")
        out = log.with_suffix(".json")
        child = self.child(
            [str(self.askfront), "ask", question, "--index", str(index), "--json"],
            log,
            stdout=out,
            timeout=600,
        )
        try:
            data = json.loads(out.read_text())
        except ValueError:
            data = {}
        if child.returncode != 0 or "answer" not in data:
            tail = log.read_text(errors="replace")[-500:]
            return {"error": f"exit {child.returncode}: {tail}"}
        return {"seconds": child.seconds, "maxrss_mb": child.maxrss_mb, "answer": data["answer"]}

    def serve(self, index: Path, corpus: Path, questions: Sequence[str]) -> Json:
        """Start `askfront serve`, time until / answers 200 and the first /ask API answer."""
        if importlib.util.find_spec("askfront.web.app") is None:
            return {"error": "n/a (ui not available)"}
        try:
            from gradio_client import Client
        except ImportError:
            return {"error": "n/a (gradio_client not installed; pip install -e '.[test]')"}
        port = _free_port()
        url = f"http://127.0.0.1:{port}/"
        log = self.log_path("serve")
        out: Json = {}
        with open(log, "ab") as f:
            started = now()
            proc = subprocess.Popen(
                [
                    str(self.askfront),
                    "serve",
                    "--index",
                    str(index),
                    "--corpus",
                    str(corpus),
                    "--port",
                    str(port),
                ],
                stdout=f,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
            )
            try:
                while not _http_ok(url):
                    if proc.poll() is not None:
                        tail = log.read_text(errors="replace")[-500:]
                        return {"error": f"n/a (serve exited with {proc.returncode}): {tail}"}
                    if now() - started > 300:
                        return {"error": "n/a (serve did not answer HTTP within 300 s)"}
                    time.sleep(0.05)
                out["http_200_s"] = now() - started
                client = Client(url, verbose=False)
                t = now()
                first = client.predict(questions[0], "[]", api_name="/ask")
                out["first_answer_s"] = now() - started
                out["first_api_call_s"] = now() - t
                if not isinstance(first, dict) or "answer" not in first:
                    return {**out, "error": f"unexpected /ask result: {str(first)[:200]}"}
                warm = []
                for q in questions[1:6]:
                    t = now()
                    client.predict(q, "[]", api_name="/ask")
                    warm.append((now() - t) * 1000)
                out["warm_api_ms"] = latency(warm)
                if self.load_clients:
                    import load

                    self._say(f"  load: {self.load_clients} concurrent /ask clients ...")
                    out["load"] = load.run_load(
                        url,
                        questions,
                        clients=self.load_clients,
                        per_client=self.load_per_client,
                        deadline_s=300,
                    )
                out["peak_rss_mb"] = _vm_hwm_mb(proc.pid)
            finally:
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        return out

    def _say(self, text: str) -> None:
        if self.verbose:
            print(text, file=sys.stderr, flush=True)


class LoadSampler(threading.Thread):
    """Samples the 1-minute load average while the benchmark runs: the machine is shared,
    and figures taken under load are only comparable as same-run ratios."""

    def __init__(self, every: float = 5.0) -> None:
        super().__init__(daemon=True)
        self.every = every
        self.samples: list[float] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.samples.append(os.getloadavg()[0])
            self._stop_event.wait(self.every)

    def stop(self) -> Json:
        self._stop_event.set()
        got = self.samples or [os.getloadavg()[0]]
        return {"min": min(got), "median": statistics.median(got), "max": max(got)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _vm_hwm_mb(pid: int) -> float | None:
    """Peak resident set size of a running process (Linux /proc)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None
