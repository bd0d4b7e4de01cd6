"""`bigbench:TASK[/SUBTASK]`: BIG-bench JSON tasks, read from the `bigbench` 1.0.0 source archive.

The archive is fetched once with pip (`pip download --no-deps --no-binary :all: bigbench==1.0.0`,
nothing is installed) into the data cache (`$REASONLAB_DATA` or `~/.cache/reasonlab/data`), and
a task's `bigbench/benchmark_tasks/TASK/**/task.json` files are unpacked from it the first time
that task is used (one pass over the archive, ~10 s; all tasks unpacked would take 1.7 GB). After that,
no network is needed. Generative examples (`target`, one text or a list of accepted texts) and
multiple-choice examples (`target_scores`: option → score, the highest is correct; options are
shuffled with a seed per example, since the files often list the correct one first) are read;
a task's `example_input_prefix` (word_sorting's "\nList: ") goes between its prefix and the input.
Programmatic tasks (task.py only) are read where bigbench_programs.py repeats their generator
(boolean_expressions, multistep_arithmetic); others are refused.

pip ≥ 26 refuses to finish downloading bigbench 1.0.0 (its metadata names a `file://` dependency,
which PyPI distributions may no longer declare) after it has fetched and unpacked the sdist; the
download then runs with `--no-clean` in a private temporary folder, and the task files of the
unpacked tree are packed into `bigbench-1.0.0-tasks.tar.gz`, read like the original archive.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from ...errors import InputError, ReasonlabError
from .base import Dataset, Item, register
from .bigbench_programs import program_items

VERSION = "1.0.0"
_lock = threading.Lock()


def data_dir() -> Path:
    """Root of reasonlab's local data cache ($REASONLAB_DATA or ~/.cache/reasonlab/data)."""
    env = os.environ.get("REASONLAB_DATA")
    if env:
        return Path(env).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "reasonlab" / "data"


def tasks_dir() -> Path:
    return data_dir() / f"bigbench-{VERSION}" / "benchmark_tasks"


def _download(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    found = sorted(dest.glob(f"bigbench-{VERSION}*.tar.gz"))
    if found:
        return found[0]
    print(f"reasonlab: fetching the BIG-bench {VERSION} source archive (~360 MB, once) into {dest}",
          file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="bigbench-pip-", dir=dest) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "--no-clean",
               "--no-build-isolation", f"bigbench=={VERSION}", "-d", str(dest)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "TMPDIR": tmp})
        found = sorted(dest.glob(f"bigbench-{VERSION}.tar.gz"))
        trees = sorted(Path(tmp).glob("pip-download-*/bigbench*/bigbench/benchmark_tasks"))
        if not found and trees:
            found = [pack_tasks(trees[0], dest / f"bigbench-{VERSION}-tasks.tar.gz")]
    if not found:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ReasonlabError(f"could not download bigbench=={VERSION} with pip: {tail[0]}")
    return found[0]


def pack_tasks(tree: Path, out: Path) -> Path:
    """Pack the task.json/task.py files of an unpacked `benchmark_tasks` folder as an archive `unpack` reads."""
    partial = out.with_name(out.name + ".partial")
    with tarfile.open(partial, "w:gz", compresslevel=1) as tar:
        for path in sorted(tree.rglob("task.*")):
            if path.name in ("task.json", "task.py") and path.is_file():
                tar.add(path, arcname=f"bigbench-{VERSION}/bigbench/benchmark_tasks/{path.relative_to(tree)}")
    partial.rename(out)
    return out


def unpack(archive: Path, root: Path, task: str) -> int:
    """Unpack the task.json files of one task (and its subtasks; a programmatic task's task.py) into
    root/task; returns how many.

    The same pass writes root/index.txt, the names of every task in the archive.
    """
    tmp = root / f".{task}.partial"
    names: set[str] = set()
    count = 0
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if not member.isfile() or not member.name.endswith(("/task.json", "/task.py")):
                continue
            _, sep, rel = member.name.partition("/bigbench/benchmark_tasks/")
            parts = Path(rel).parts
            if not sep or ".." in parts or len(parts) < 2 or (parts[-1] == "task.py" and len(parts) != 2):
                continue
            names.add(parts[0])
            if parts[0] != task:
                continue
            out = tmp.joinpath(*parts[1:])
            out.parent.mkdir(parents=True, exist_ok=True)
            src = tar.extractfile(member)
            if src is not None:
                out.write_bytes(src.read())
                count += 1
    root.mkdir(parents=True, exist_ok=True)
    (root / "index.txt").write_text("\n".join(sorted(names)) + "\n", encoding="utf-8")
    if count:
        tmp.rename(root / task)
    return count


def ensure_task(task: str) -> Path:
    """The unpacked folder of one task, fetching the archive and unpacking the task on first use."""
    root = tasks_dir()
    with _lock:
        index = root / "index.txt"
        if index.is_file() and task not in index.read_text(encoding="utf-8").split():
            raise InputError(f"no BIG-bench JSON task {task!r}{_similar(root, task)}")
        if not (root / task).is_dir():
            archive = _download(data_dir() / "archives")
            if unpack(archive, root, task) == 0:
                raise InputError(f"no BIG-bench JSON task {task!r}{_similar(root, task)}")
    return root / task


def _similar(root: Path, task: str) -> str:
    index = root / "index.txt"
    names = index.read_text(encoding="utf-8").split() if index.is_file() else []
    near = [n for n in names if n.startswith(task[:4])][:8]
    return f" (similar: {', '.join(near)})" if near else ""


def parse_task(data: dict, where: str) -> list[Item]:
    """Items of one task.json: generative (`target`) and multiple-choice (`target_scores`) examples."""
    examples = data.get("examples")
    if not isinstance(examples, list) or not examples:
        raise InputError(f"{where}: no 'examples' list (programmatic tasks are not supported)")
    prefix = str(data.get("task_prefix") or "") + str(data.get("example_input_prefix") or "")
    items = []
    for i, ex in enumerate(examples):
        if not isinstance(ex, dict) or "input" not in ex:
            raise InputError(f"{where}: example {i} has no 'input'")
        question = (prefix + str(ex["input"])).strip()
        scores = ex.get("target_scores")
        if isinstance(scores, dict) and scores:
            # BIG-bench files often list the correct option first: shuffle, seeded per example, so
            # that "always answer A" scores at chance under the lettered format.
            pairs = [(str(k), float(v)) for k, v in scores.items()]
            random.Random(f"{data.get('name', where)}:{i}").shuffle(pairs)
            choices = [c for c, _ in pairs]
            values = [v for _, v in pairs]
            gi = values.index(max(values))
            items.append(Item(id=str(i), question=question, answer=choices[gi], kind="choice",
                              choices=choices, gold_index=gi))
            continue
        target = ex.get("target")
        targets = [target] if isinstance(target, str) else target
        if not isinstance(targets, list) or not targets:
            raise InputError(f"{where}: example {i} has neither 'target' nor 'target_scores'")
        targets = [str(t) for t in targets]
        items.append(Item(id=str(i), question=question, answer=targets[0].strip(), kind="auto",
                          meta={"aliases": [t.strip() for t in targets[1:]]} if len(targets) > 1 else {}))
    return items


@register
class BigBenchDataset(Dataset):
    prefix = "bigbench"
    description = f"BIG-bench {VERSION} JSON tasks (TASK or TASK/SUBTASK), cached locally on first use."

    def __init__(self, arg: str) -> None:
        super().__init__(arg)
        parts = [p for p in arg.strip("/").split("/") if p]
        if not parts or len(parts) > 2 or any(p in (".", "..") for p in parts):
            raise InputError(f"bigbench spec needs TASK or TASK/SUBTASK, got {arg!r}")
        self.parts = parts
        self._items: list[Item] | None = None

    def path(self) -> Path:
        task = ensure_task(self.parts[0])
        path = task.joinpath(*self.parts[1:], "task.json")
        if not path.is_file():
            subs = sorted(p.parent.name for p in task.glob("*/task.json"))
            hint = f"; subtasks: {', '.join(subs)}" if subs else ""
            raise InputError(f"BIG-bench task {'/'.join(self.parts)!r} has no task.json{hint}")
        return path

    def items(self) -> Iterator[Item]:
        if self._items is None:
            task = ensure_task(self.parts[0])
            if (task / "task.py").is_file() and not any(task.rglob("task.json")):
                self._items = program_items(self.parts[0], task / "task.py", "/".join(self.parts[1:]) or None)
                yield from self._items
                return
            path = self.path()
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as e:
                raise InputError(f"{path}:{e.lineno}: not valid JSON ({e.msg})") from None
            self._items = parse_task(data, str(path))
        yield from self._items
