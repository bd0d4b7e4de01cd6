"""GGUF models from the Hugging Face hub: ``hf:OWNER/REPO/FILE.gguf`` and ``hf:OWNER/REPO:QUANT``.

Files go through `huggingface_hub` (its cache, retries that resume with HTTP Range, progress
bars, the token from ``HF_TOKEN`` or ``hf auth login``). The environment is read at each call:
``HF_ENDPOINT`` (another hub or a mirror), ``HF_HUB_CACHE``/``HF_HOME`` (where files live) and
``HF_HUB_OFFLINE=1`` (use only what is cached). A spec may end in ``@REVISION`` (branch, tag or commit).

``:QUANT`` picks the repository's GGUF whose name carries that quantisation (``Q4_K_M``, ``q8_0``,
``IQ4_XS``…, case-insensitive); a model split into ``-00001-of-0000N`` shards downloads every
shard and loads from the first. Without a file or quantisation, a repository's only GGUF is used.
"""

from __future__ import annotations

import logging
import os
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .base import ModelError, ModelSpecError

_TRUE = {"1", "ON", "YES", "TRUE"}
_SHARD = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.I)
_QUANT_NAME = re.compile(r"(?<![A-Za-z0-9])(I?Q\d(?:_[A-Z0-9]+)*|BF16|F16|F32)(?![A-Za-z0-9])", re.I)


class HubError(ModelError):
    """A hub model that cannot be had (offline, not found, gated): one line that says what to do."""

    exit_code = 2


@dataclass(frozen=True)
class HubRef:
    """Where a GGUF lives on the hub: a repository plus an exact file or a quantisation name."""

    repo_id: str
    filename: str | None = None
    quant: str | None = None
    revision: str | None = None

    @property
    def spec(self) -> str:
        tail = f"/{self.filename}" if self.filename else (f":{self.quant}" if self.quant else "")
        return f"hf:{self.repo_id}{tail}" + (f"@{self.revision}" if self.revision else "")


def parse_ref(target: str) -> HubRef:
    """``OWNER/REPO/PATH.gguf``, ``OWNER/REPO:QUANT`` or ``OWNER/REPO`` (optionally ``@REVISION``)."""

    text, at, revision = target.strip().rpartition("@")
    if not at:
        text, revision = target.strip(), ""
    if at and not revision:
        raise ModelSpecError(f"model spec 'hf:{target}' has an empty revision after '@'")
    repo_part, colon, quant = text.partition(":")
    parts = repo_part.split("/")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise ModelSpecError(f"model spec 'hf:{target}': use hf:OWNER/REPO/FILE.gguf or hf:OWNER/REPO:QUANT")
    repo_id, filename = "/".join(parts[:2]), "/".join(parts[2:]) or None
    if colon and (filename or not quant):
        raise ModelSpecError(f"model spec 'hf:{target}': give either /FILE.gguf or :QUANT, not both")
    if filename and not filename.lower().endswith(".gguf"):
        raise ModelSpecError(f"model spec 'hf:{target}': {filename!r} is not a .gguf file "
                             "(llama.cpp reads GGUF; pick a GGUF repository)")
    return HubRef(repo_id, filename, quant or None, revision or None)


# -- the environment, read now ---------------------------------------------------------------
def offline() -> bool:
    return any(os.environ.get(v, "").strip().upper() in _TRUE for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def cache_dir() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME") or "~/.cache", "huggingface")
    return Path(home).expanduser() / "hub"


def endpoint() -> str | None:
    return (os.environ.get("HF_ENDPOINT") or "").rstrip("/") or None


def reachable(timeout: float = 3.0) -> bool:
    """Can a TCP connection to the hub be opened? (huggingface_hub would retry for ~20 s otherwise.)
    Behind a proxy the answer is left to huggingface_hub: True."""
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY")):
        return True
    url = urlsplit(endpoint() or "https://huggingface.co")
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname or "", port), timeout=timeout).close()
    except OSError:
        return False
    return True


def _why_not() -> str:
    return "HF_HUB_OFFLINE is set" if offline() else f"{endpoint() or 'https://huggingface.co'} cannot be reached"


@contextmanager
def _quiet() -> Iterator[None]:
    """huggingface_hub as the environment says now (it reads HF_HUB_OFFLINE once, at import), with its
    own warnings (retries, 'defaulting to cached file') off: our errors say it in one line."""
    from huggingface_hub import constants

    log = logging.getLogger("huggingface_hub")
    level, was_offline = log.level, constants.HF_HUB_OFFLINE
    log.setLevel(logging.ERROR)
    constants.HF_HUB_OFFLINE = offline()
    try:
        yield
    finally:
        log.setLevel(level)
        constants.HF_HUB_OFFLINE = was_offline


# -- picking a file ----------------------------------------------------------------------------
def quant_names(files: list[str]) -> list[str]:
    """The quantisation names found in GGUF file names (upper case, sorted, no duplicates)."""
    found = {m.group(1).upper() for f in files if f.lower().endswith(".gguf")
             for m in [_QUANT_NAME.search(Path(f).name)] if m}
    return sorted(found)


def pick_files(ref: HubRef, files: list[str]) -> list[str]:
    """The file(s) to download for `ref` among the repository's `files` (shards: all, first one first)."""
    ggufs = [f for f in files if f.lower().endswith(".gguf") and not Path(f).name.lower().startswith("mmproj")]
    if ref.quant:
        want = re.compile(rf"(?<![A-Za-z0-9]){re.escape(ref.quant)}(?![A-Za-z0-9]|_[A-Za-z0-9])", re.I)
        chosen = [f for f in ggufs if want.search(_SHARD.sub(".gguf", Path(f).name))]
    else:
        chosen = ggufs
    groups: dict[str, list[str]] = {}
    for f in sorted(chosen):
        groups.setdefault(_SHARD.sub("", f), []).append(f)
    if len(groups) == 1:
        return next(iter(groups.values()))
    if not ggufs:
        raise HubError(f"{ref.spec}: the repository has no GGUF file (llama.cpp needs one; look for a "
                       "'-GGUF' repository)")
    quants = ", ".join(quant_names(ggufs)) or "none recognised"
    if not groups:
        raise HubError(f"{ref.spec}: no GGUF file with {ref.quant!r} in its name (quantisations here: {quants})")
    names = ", ".join(g[0] for g in groups.values())
    if ref.quant:
        raise HubError(f"{ref.spec}: several files match {ref.quant!r} ({names}); name one: hf:{ref.repo_id}/FILE.gguf")
    raise HubError(f"{ref.spec}: the repository has several GGUF files; pick one by quantisation, "
                   f"e.g. hf:{ref.repo_id}:{quant_names(ggufs)[0] if quant_names(ggufs) else 'Q4_K_M'} "
                   f"(quantisations here: {quants})")


def cached_files(ref: HubRef) -> list[str] | None:
    """Files of the cached snapshot of `ref`'s revision (None if the repository is not cached)."""
    folder = cache_dir() / f"models--{ref.repo_id.replace('/', '--')}"
    rev = ref.revision or "main"
    ref_file = folder / "refs" / rev
    commit = ref_file.read_text().strip() if ref_file.is_file() else rev
    snap = folder / "snapshots" / commit
    if not snap.is_dir():
        return None
    return sorted(p.relative_to(snap).as_posix() for p in snap.rglob("*") if p.is_file())


# -- downloading -------------------------------------------------------------------------------
def _what_to_do(ref: HubRef) -> str:
    return (f"connect to the hub once and run `reasonlab models pull {ref.spec}` (files are cached in "
            f"{cache_dir()}), or use a local file with llama:PATH.gguf")


def _explain(ref: HubRef, e: Exception, filename: str | None = None) -> HubError:
    """A huggingface_hub exception as one line that says what to do."""
    from huggingface_hub import errors as hfe

    what = f"{ref.spec}" + (f" ({filename})" if filename and filename != ref.filename else "")
    if isinstance(e, hfe.GatedRepoError):
        return HubError(f"{what}: {ref.repo_id} is gated: accept its terms on the hub, then set HF_TOKEN "
                        "(or run `hf auth login`)")
    if isinstance(e, hfe.RepositoryNotFoundError):
        return HubError(f"{what}: no repository {ref.repo_id!r} on the hub (a private one needs HF_TOKEN)")
    if isinstance(e, hfe.RevisionNotFoundError):
        return HubError(f"{what}: {ref.repo_id} has no revision {ref.revision!r}")
    if isinstance(e, hfe.LocalEntryNotFoundError) or isinstance(e, hfe.OfflineModeIsEnabled):
        return HubError(f"{what}: not in the local cache and {_why_not()}: {_what_to_do(ref)}")
    if isinstance(e, hfe.EntryNotFoundError):
        return HubError(f"{what}: {ref.repo_id} has no file {filename!r}")
    if isinstance(e, hfe.HfHubHTTPError):
        status = getattr(getattr(e, "response", None), "status_code", "?")
        return HubError(f"{what}: the hub answered HTTP {status}: {' '.join(str(e).split())[:160]}")
    return HubError(f"{what}: cannot reach the hub ({type(e).__name__}: {' '.join(str(e).split())[:120]}): "
                    f"{_what_to_do(ref)}")


def list_files(ref: HubRef, online: bool) -> list[str]:
    """The repository's files: from the hub when online, else from the cache (HubError if neither)."""
    if online:
        from huggingface_hub import HfApi, errors

        try:
            with _quiet():
                return list(HfApi(endpoint=endpoint()).list_repo_files(ref.repo_id, revision=ref.revision))
        except (errors.RepositoryNotFoundError, errors.RevisionNotFoundError) as e:
            raise _explain(ref, e) from None
        except Exception as e:  # noqa: BLE001 - the hub failed: fall back to the cache below
            files = cached_files(ref)
            if files is None:
                raise HubError(f"{ref.spec}: cannot list the files of {ref.repo_id} ({str(_explain(ref, e)).split(': ', 1)[-1]}) and "
                               f"it is not in the local cache: {_what_to_do(ref)}") from None
            return files
    files = cached_files(ref)
    if files is None:
        raise HubError(f"{ref.spec}: {ref.repo_id} is not in the local cache and {_why_not()}: {_what_to_do(ref)}")
    return files


def download(ref: HubRef, filename: str, online: bool = True) -> Path:
    """One file through huggingface_hub's cache (resumes a partial download; progress bar on stderr)."""
    from huggingface_hub import hf_hub_download

    try:
        with _quiet():
            path = hf_hub_download(ref.repo_id, filename, revision=ref.revision, cache_dir=str(cache_dir()),
                                   endpoint=endpoint(), local_files_only=not online)
    except Exception as e:  # noqa: BLE001 - every failure becomes one line
        raise _explain(ref, e, filename) from None
    return Path(path)


def resolve(ref: HubRef | str) -> Path:
    """The local path of `ref`'s GGUF (its first shard), downloading what the cache lacks."""
    if isinstance(ref, str):
        ref = parse_ref(ref.removeprefix("hf:"))
    try:
        import huggingface_hub  # noqa: F401
    except ImportError:
        raise HubError(f"{ref.spec}: hub models need the package huggingface_hub "
                       "(pip install huggingface_hub)") from None
    online = not offline() and reachable()
    files = [ref.filename] if ref.filename else pick_files(ref, list_files(ref, online))
    paths = [download(ref, f, online) for f in files]
    return paths[0]
