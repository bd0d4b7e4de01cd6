"""`csv:PATH` and `parquet:PATH` datasets: one row per item, fields mapped as for `jsonl:`.

``csv:mmlu.csv?question=question&choices=A,B,C,D&answer=answer`` (a `.tsv` file is read
tab-separated); ``parquet:test.parquet?question=input&answer=target`` needs pyarrow
(``pip install 'reasonlab[data]'``). A CSV cell holding a JSON list works as `choices` too.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from ...errors import InputError
from ._records import FileDataset
from .base import register


@register
class CsvDataset(FileDataset):
    prefix = "csv"
    description = "A local CSV/TSV file with a header row; map columns with ?question=COL&answer=COL&choices=A,B,C,D."

    def records(self) -> Iterator[tuple[str, int | str, dict[str, Any]]]:
        delimiter = "\t" if self.path.suffix.lower() == ".tsv" else ","
        try:
            f = self.path.open(encoding="utf-8-sig", newline="")  # streamed: quoted newlines stay in cells
        except OSError as e:
            raise InputError(f"{self.path}: cannot be read ({e.strerror or e})") from None
        with f:
            reader = csv.DictReader(f, delimiter=delimiter)
            try:
                if not reader.fieldnames:
                    raise InputError(f"{self.path}: no header row")
                for i, row in enumerate(reader):
                    where = f"{self.path}:{reader.line_num}"
                    if None in row:
                        raise InputError(f"{where}: more cells than the header's {len(reader.fieldnames)} columns")
                    yield where, i, {k: v for k, v in row.items()}
            except UnicodeDecodeError as e:
                raise InputError(f"{self.path}:{reader.line_num + 1}: not UTF-8 text ({e.reason})") from None
            except csv.Error as e:  # e.g. a cell over csv's field size limit (128 KiB)
                raise InputError(f"{self.path}:{reader.line_num}: not readable CSV ({e})") from None


@register
class ParquetDataset(FileDataset):
    prefix = "parquet"
    description = "A local Parquet file (needs pyarrow); map columns with ?question=COL&answer=COL&choices=COL."

    def records(self) -> Iterator[tuple[str, int | str, dict[str, Any]]]:
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise InputError("parquet: datasets need pyarrow (pip install 'reasonlab[data]')") from None
        try:
            rows = pq.read_table(self.path).to_pylist()
        except Exception as e:  # noqa: BLE001 - a damaged or non-parquet file is one line
            raise InputError(f"{self.path}: not a readable Parquet file ({type(e).__name__}: {e})") from None
        for i, row in enumerate(rows):
            yield f"{self.path}: row {i}", i, row
