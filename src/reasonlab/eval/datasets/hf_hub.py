"""`hf:DATASET[?config=C&split=S&question=F&answer=F…]`: a dataset through the `datasets` library.

DATASET is a hub name (``openai/gsm8k``, downloaded once into the `datasets` cache; offline with
``HF_HUB_OFFLINE=1`` it is read from that cache), a local folder of data files
(``hf:./bbh?split=test``: JSON Lines, CSV or Parquet files as the library finds them) or a folder
written by ``Dataset.save_to_disk``. Fields are mapped as for ``jsonl:``. Without ``split`` the
first of test, validation, train that exists is used. Needs ``pip install 'reasonlab[data]'``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ...errors import InputError
from ._records import RecordDataset
from .base import register

SPLIT_ORDER = ("test", "validation", "train")


def _one_line(e: Exception) -> str:
    return f"{type(e).__name__}: {' '.join(str(e).split())}"[:240]


@register
class HfDataset(RecordDataset):
    prefix = "hf"
    description = ("A Hugging Face dataset (hub name or local folder) through the `datasets` library: "
                   "?config=C&split=S plus field mapping.")
    options = ("config", "split", "revision", "data_files")

    def _load(self) -> Any:
        try:
            import datasets
        except ImportError:
            raise InputError("hf: datasets need the `datasets` library (pip install 'reasonlab[data]')") from None
        name, opts = self.source, self.opts
        if not name:
            raise InputError("hf: name a dataset: hf:OWNER/NAME or hf:./FOLDER")
        local = Path(name).expanduser()
        try:
            if local.is_dir() and ((local / "dataset_dict.json").is_file() or (local / "state.json").is_file()):
                return datasets.load_from_disk(str(local))
            kwargs: dict[str, Any] = {}
            if opts.get("revision"):
                kwargs["revision"] = opts["revision"]
            if opts.get("data_files"):
                kwargs["data_files"] = opts["data_files"]
            if opts.get("split"):
                kwargs["split"] = opts["split"]
            return datasets.load_dataset(str(local) if local.is_dir() else name, opts.get("config") or None,
                                         **kwargs)
        except (FileNotFoundError, ValueError, ConnectionError, OSError) as e:
            offline = "HF_HUB_OFFLINE is set, so only the local cache is read; " if _offline() else ""
            raise InputError(f"hf:{name}: cannot load ({_one_line(e)}); {offline}for a hub dataset connect once "
                             "(files are cached), or point at a local folder or file") from None
        except Exception as e:  # noqa: BLE001 - the library's many errors become one line
            raise InputError(f"hf:{name}: cannot load: {_one_line(e)}") from None

    def records(self) -> Iterator[tuple[str, int | str, dict[str, Any]]]:
        import datasets

        data = self._load()
        split = self.opts.get("split")
        if isinstance(data, datasets.DatasetDict):  # all splits (no split asked, or from save_to_disk)
            splits = list(data.keys())
            if split is None:
                split = next((s for s in SPLIT_ORDER if s in splits), splits[0] if splits else None)
            if split not in splits:
                raise InputError(f"hf:{self.source}: no split {split!r} (splits: {', '.join(splits)})")
            data = data[split]
        where = f"hf:{self.source}" + (f" [{split}]" if split else "")
        for i, row in enumerate(data):
            yield f"{where} row {i}", i, row


def _offline() -> bool:
    import os

    return any(os.environ.get(v, "").upper() in {"1", "ON", "YES", "TRUE"}
               for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))
