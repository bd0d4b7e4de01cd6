"""`hf:` model specs through huggingface_hub's real code: a hub cache laid out on disk (offline) and
a fake hub on 127.0.0.1 (HF_ENDPOINT) that answers the tree-listing, HEAD and GET resolve calls."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from reasonlab.models import ModelSpecError, parse_spec
from reasonlab.models.hub import HubError, HubRef, parse_ref, pick_files, resolve

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def hub_env(tmp_path, monkeypatch):
    """A private HF cache; no proxy between us and 127.0.0.1; online unless a test says otherwise."""
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "HF_HUB_OFFLINE",
                "TRANSFORMERS_OFFLINE", "HF_ENDPOINT", "HF_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    cache = tmp_path / "hf-cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    return cache


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reasonlab", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


# -- spec syntax ------------------------------------------------------------------------------------
def test_spec_forms():
    assert parse_ref("Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf") == HubRef(
        "Qwen/Qwen2.5-0.5B-Instruct-GGUF", "qwen2.5-0.5b-instruct-q4_k_m.gguf")
    assert parse_ref("o/r:Q4_K_M") == HubRef("o/r", quant="Q4_K_M")
    assert parse_ref("o/r/sub/m.gguf@v2") == HubRef("o/r", "sub/m.gguf", revision="v2")
    assert parse_spec("hf:o/r:Q8_0").backend == "hf"
    for bad in ("hf:onlyowner", "hf:o/r/readme.md", "hf:o/r/x.gguf:Q4", "hf:o/r@"):
        with pytest.raises(ModelSpecError):
            parse_spec(bad)


def test_quantisation_picks_one_file_or_says_which_exist():
    files = ["m-Q4_K_M.gguf", "m-Q4_K_S.gguf", "m-Q8_0-00001-of-00002.gguf", "m-Q8_0-00002-of-00002.gguf",
             "mmproj-m-Q8_0.gguf", "README.md"]
    assert pick_files(HubRef("o/r", quant="q4_k_m"), files) == ["m-Q4_K_M.gguf"]
    assert pick_files(HubRef("o/r", quant="Q8_0"), files) == ["m-Q8_0-00001-of-00002.gguf",
                                                               "m-Q8_0-00002-of-00002.gguf"]
    with pytest.raises(HubError, match=r"quantisations here: Q4_K_M, Q4_K_S, Q8_0"):
        pick_files(HubRef("o/r", quant="Q4_K"), files)  # a prefix of two names is not a match
    with pytest.raises(HubError, match="several GGUF files"):
        pick_files(HubRef("o/r"), files)
    assert pick_files(HubRef("o/r"), ["only.gguf", "config.json"]) == ["only.gguf"]


# -- offline: a hub cache laid out by hand, holding the embedded model's GGUF -------------------------
def _lay_out_cache(cache: Path, repo: str, name: str, source: Path) -> Path:
    folder = cache / f"models--{repo.replace('/', '--')}"
    blob = folder / "blobs" / hashlib.sha256(name.encode()).hexdigest()
    blob.parent.mkdir(parents=True)
    blob.symlink_to(source)
    snap = folder / "snapshots" / COMMIT / name
    snap.parent.mkdir(parents=True)
    snap.symlink_to(os.path.relpath(blob, snap.parent))
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(COMMIT)
    return snap


@pytest.fixture
def embedded_gguf() -> Path:
    from reasonlab.models.embedded import embedded_path

    try:
        return Path(embedded_path("smollm2"))
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"embedded model not installed: {e}")


def test_offline_resolves_from_the_cache(hub_env, monkeypatch, embedded_gguf):
    name = "SmolLM2-135M-Instruct.Q4_1.gguf"
    snap = _lay_out_cache(hub_env, "local/SmolLM2-GGUF", name, embedded_gguf)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    by_file = resolve(f"hf:local/SmolLM2-GGUF/{name}")
    by_quant = resolve("hf:local/SmolLM2-GGUF:q4_1")
    assert by_file == by_quant == snap
    assert by_file.resolve() == embedded_gguf.resolve()
    with pytest.raises(HubError, match="not in the local cache and HF_HUB_OFFLINE is set.*models pull"):
        resolve("hf:local/other-GGUF:Q4_1")
    with pytest.raises(HubError, match="no GGUF file with 'Q8_0'"):
        resolve("hf:local/SmolLM2-GGUF:Q8_0")


def test_offline_cli_pull_prints_path_and_missing_model_is_one_line(hub_env, embedded_gguf):
    name = "SmolLM2-135M-Instruct.Q4_1.gguf"
    snap = _lay_out_cache(hub_env, "local/SmolLM2-GGUF", name, embedded_gguf)
    env = {"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(hub_env)}
    ok = _cli("models", "pull", "hf:local/SmolLM2-GGUF:Q4_1", env=env)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == str(snap)
    missing = _cli("models", "pull", "hf:nobody/absent-GGUF/x.gguf", env=env)
    assert missing.returncode == 2
    lines = missing.stderr.strip().splitlines()
    assert len(lines) == 1 and "HF_HUB_OFFLINE is set" in lines[0] and "reasonlab models pull" in lines[0]


@pytest.mark.embedded
def test_offline_hub_model_answers(hub_env, embedded_gguf):
    name = "SmolLM2-135M-Instruct.Q4_1.gguf"
    _lay_out_cache(hub_env, "local/SmolLM2-GGUF", name, embedded_gguf)
    env = {"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(hub_env), "OMP_WAIT_POLICY": "PASSIVE"}
    out = _cli("ask", "What is 2 + 3?", "--strategy", "direct", "--model", "hf:local/SmolLM2-GGUF:Q4_1",
               "--json", "--no-cache", "--max-tokens", "16", env=env)
    assert out.returncode in (0, 1), out.stderr
    assert json.loads(out.stdout)["model"] == "hf:local/SmolLM2-GGUF:Q4_1"


# -- online: a fake hub on 127.0.0.1 --------------------------------------------------------------------
class FakeHub(BaseHTTPRequestHandler):
    """Answers what huggingface_hub asks: GET /api/models/R/tree/REV, HEAD and GET /R/resolve/REV/FILE."""

    files: dict[str, bytes] = {}
    repo = "fake/tiny-GGUF"
    seen: list[str] = []
    ranges: list[str] = []
    drop_first_get_after: int | None = None  # bytes sent before the first GET's connection drops

    def log_message(self, *a):  # quiet
        pass

    def _not_found(self, code: str) -> None:
        self.send_response(404)
        self.send_header("X-Error-Code", code)
        self.send_header("Content-Type", "application/json")
        body = json.dumps({"error": code}).encode()
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _route(self) -> None:
        path = self.path.split("?")[0]
        self.seen.append(f"{self.command} {path}")
        tree = f"/api/models/{self.repo}/tree/main"
        resolve_prefix = f"/{self.repo}/resolve/main/"
        if path == tree and self.command == "GET":
            body = json.dumps([{"type": "file", "path": n, "size": len(b), "oid": hashlib.sha1(b).hexdigest()}
                               for n, b in self.files.items()]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if path.startswith(resolve_prefix):
            name = path[len(resolve_prefix):]
            if name not in self.files:
                return self._not_found("EntryNotFound")
            data = self.files[name]
            start = 0
            rng = self.headers.get("Range")
            if rng and rng.startswith("bytes="):
                start = int(rng[6:].split("-")[0] or 0)
                self.ranges.append(rng)
            cut = FakeHub.drop_first_get_after
            if self.command == "GET" and cut is not None:
                FakeHub.drop_first_get_after = None
                self.send_response(200)
                self.send_header("X-Repo-Commit", COMMIT)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[:cut])  # then the connection closes mid-body
                self.wfile.flush()
                self.close_connection = True
                return
            self.send_response(206 if start else 200)
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(data[start:])
            return
        self._not_found("RepoNotFound")

    do_GET = do_HEAD = _route


@pytest.fixture
def fake_hub(hub_env, monkeypatch):
    FakeHub.files = {"tiny-Q4_K_M.gguf": b"GGUF" + bytes(range(256)) * 40, "tiny-Q8_0.gguf": b"GGUF8",
                     "README.md": b"# tiny"}
    FakeHub.seen, FakeHub.ranges, FakeHub.drop_first_get_after = [], [], None
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("HF_ENDPOINT", url)
    yield url
    server.shutdown()
    server.server_close()


def test_downloads_by_quantisation_through_the_fake_hub(fake_hub, hub_env):
    path = resolve("hf:fake/tiny-GGUF:Q4_K_M")
    assert path.read_bytes() == FakeHub.files["tiny-Q4_K_M.gguf"]
    assert hub_env in path.parents and path.parent.name == COMMIT  # huggingface_hub's cache layout
    assert "GET /api/models/fake/tiny-GGUF/tree/main" in FakeHub.seen
    assert "GET /fake/tiny-GGUF/resolve/main/tiny-Q4_K_M.gguf" in FakeHub.seen
    assert not any("Q8_0" in s for s in FakeHub.seen)  # only the chosen file is fetched


def test_interrupted_download_resumes_from_where_it_stopped(fake_hub, hub_env):
    from huggingface_hub import constants

    chunk = constants.DOWNLOAD_CHUNK_SIZE  # huggingface_hub writes (and so resumes) whole chunks
    FakeHub.files["big-Q6_K.gguf"] = data = bytes(range(256)) * ((chunk + chunk // 2) // 256)
    FakeHub.drop_first_get_after = chunk + 1000
    path = resolve("hf:fake/tiny-GGUF:Q6_K")
    assert path.read_bytes() == data
    assert FakeHub.ranges == [f"bytes={chunk}-"]  # the second request asked only for the rest


def test_cli_pull_then_offline_reuse(fake_hub, hub_env):
    env = {"HF_ENDPOINT": fake_hub, "HF_HUB_CACHE": str(hub_env), "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
    first = _cli("models", "pull", "hf:fake/tiny-GGUF/tiny-Q8_0.gguf", env=env)
    assert first.returncode == 0, first.stderr
    assert Path(first.stdout.strip()).read_bytes() == b"GGUF8"
    again = _cli("models", "pull", "hf:fake/tiny-GGUF:Q8_0", env={**env, "HF_HUB_OFFLINE": "1"})
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == first.stdout.strip()
    unreachable = _cli("models", "pull", "hf:fake/tiny-GGUF:Q8_0", env={**env, "HF_ENDPOINT": "http://127.0.0.1:9"})
    assert unreachable.returncode == 0, unreachable.stderr  # the hub is down: the cache serves it
    assert unreachable.stdout.strip() == first.stdout.strip()


def test_hub_errors_are_one_line(fake_hub, hub_env):
    env = {"HF_ENDPOINT": fake_hub, "HF_HUB_CACHE": str(hub_env)}
    no_repo = _cli("models", "pull", "hf:someone/missing:Q4_K_M", env=env)
    assert no_repo.returncode == 2 and len(no_repo.stderr.strip().splitlines()) == 1
    assert "no repository 'someone/missing'" in no_repo.stderr
    no_file = _cli("models", "pull", "hf:fake/tiny-GGUF/absent.gguf", env=env)
    assert no_file.returncode == 2 and "has no file 'absent.gguf'" in no_file.stderr
    down = _cli("models", "pull", "hf:fake/tiny-GGUF:Q4_K_M", env={**env, "HF_ENDPOINT": "http://127.0.0.1:9"})
    assert down.returncode == 2 and len(down.stderr.strip().splitlines()) == 1
    assert "http://127.0.0.1:9 cannot be reached" in down.stderr and "models pull" in down.stderr
