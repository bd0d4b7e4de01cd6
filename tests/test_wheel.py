"""The built wheel works outside the repo: build it from a copy of the sources, install it into a fresh
virtual environment in a temporary folder, and run `ask --dry-run`, `strategies` and the page from there.

Dependencies come from the project's environment (a .pth line pointing at its site-packages, added
after the install), so the test needs no network; the reasonlab code, web page and exemplar files
must all come from the wheel.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parents[1]


def _run(*cmd: str | Path, cwd: Path, timeout: int = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(fresh venv's bin folder, a working folder outside the repo) with the wheel installed."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src-copy"  # build from a copy: no build/ or egg-info in the shared checkout
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "src", src / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    build = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                 "--disable-pip-version-check", "-q", "-w", base / "dist", src, cwd=base)
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next((base / "dist").glob("reasonlab-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    package = ROOT / "src" / "reasonlab"
    data = [p for folder in ("web", "data") for p in (package / folder).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]
    assert any(p.suffix == ".html" for p in data) and any("exemplars" in p.parts for p in data)
    for p in [*data, package / "cli" / "__init__.py"]:  # every package-data file, as in the source tree
        name = p.relative_to(ROOT / "src").as_posix()
        assert name in names, f"{name} is missing from the wheel"
    venv = base / "venv"
    made = _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=base)
    assert made.returncode == 0, made.stderr
    py = venv / "bin" / "python"
    inst = _run(sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "--no-index",
                "--disable-pip-version-check", "-q", wheel, cwd=base)
    assert inst.returncode == 0, inst.stderr[-2000:]
    site = Path(_run(py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=base).stdout.strip())
    (site / "zz_project_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = base / "elsewhere"
    work.mkdir()
    return venv / "bin", work


def _env(tmp_path: Path) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, "REASONLAB_CACHE": str(tmp_path / "cache.sqlite")}


def test_code_comes_from_the_wheel(installed, tmp_path):
    bin_dir, work = installed
    out = _run(bin_dir / "python", "-c", "import reasonlab, reasonlab.web; print(reasonlab.__file__)", cwd=work,
               env=_env(tmp_path))
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()).is_relative_to(bin_dir.parent), out.stdout
    assert not Path(out.stdout.strip()).is_relative_to(ROOT)


def test_ask_dry_run_and_strategies_from_the_wheel(installed, tmp_path):
    bin_dir, work = installed
    dry = _run(bin_dir / "reasonlab", "ask", "A pen costs 3 dollars. How much do 4 pens cost?", "--strategy",
               "few-shot-cot", "--dry-run", cwd=work, env=_env(tmp_path))
    assert dry.returncode == 0, dry.stderr
    assert "How much do 4 pens cost?" in dry.stdout and dry.stdout.count("--- user ---") >= 1
    strategies = _run(bin_dir / "reasonlab", "strategies", "--json", cwd=work, env=_env(tmp_path))
    assert strategies.returncode == 0, strategies.stderr
    assert {"direct", "zero-shot-cot", "self-consistency", "pal"} <= set(json.loads(strategies.stdout))


def test_serve_page_from_the_wheel(installed, tmp_path):
    bin_dir, work = installed
    script = tmp_path / "m.json"
    script.write_text(json.dumps({"default": "The answer is 12."}))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(bin_dir / "reasonlab"), "serve", "--port", str(port), "--model",
                             f"scripted:{script}", "--log-level", "warning"], cwd=work, env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        page = None
        for _ in range(300):
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.HTTPError:
                if proc.poll() is not None:
                    pytest.fail(f"server exited: {proc.stderr.read()[-2000:]}")
                time.sleep(0.2)
        assert page is not None and page.status_code == 200
        assert "<html" in page.text.lower()
        assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
        assert assets, "the page links no assets"
        for asset in assets:  # the page's scripts and styles come from the installed package
            assert httpx.get(f"http://127.0.0.1:{port}{asset}", timeout=5).status_code == 200, asset
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
