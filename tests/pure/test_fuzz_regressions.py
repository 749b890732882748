"""Inputs the long fuzz campaign (fuzz/run_campaign.py, benches/results/fuzz_stats.json) found
breaking a contract, each kept with the fix it led to."""

import tracemalloc
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rft.filter import path_verdict
from rft.filter.path_verdict import verify_path
from rft.ingest.generation_files import InvalidImport, read_records

MAX_ROW_BYTES = 1 << 20  # docs/verification.md, section 9: one verify_path call, above its input

# fuzz/fuzz_verification.py, verification target: this row peaked at 1,924,830 bytes. Not the row
# itself (a few KB alone) but the memo: the call that inserted its annotation made the single
# 65,536-entry lru_cache rebuild its hash table (~2-4 MB at once, every ~20,000 new keys).
MEMO_REBUILD_ROW = "<<2\x00\x04>>\n#### 1"
# The same run, later, once the memo was full: 3,856,978 bytes, an eviction-time rebuild (the
# first 300 characters, as the harness kept it).
MEMO_FULL_ROW = ("<<2/3=0.666>> a=4>>,0\n.5>>hen <<(-2)**2=4>>,0<<2**-1=0.5>>then <<(-2)**2=4>>,0\n.<<-*21*=0.5>>"
                 "then <<(-2)**2=4>>,2=4>>,<<2**-1=0.5>>the~ <<(-2)**2=4>>333<(-2)**2=4>>,/0\n.<<2**-1=0.5>>then "
                 "<<(-2)**2=4>>,2=4>>,<<2**-1=0.5>>then <<(-2)**2=4>>333>> then <<(-2)**2=4>>,<<2**-1=0.5>>then "
                 "<<(-2)**2=4>>,>> th")


def peak_of(row: str, gold: str) -> int:
    """tracemalloc's peak during one verify_path call, above what was allocated before it."""
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    verify_path(row, gold)
    return tracemalloc.get_traced_memory()[1] - before


def test_no_row_pays_for_rebuilding_the_memo():
    for memo in (path_verdict._check_memo, path_verdict._canonical_memo):
        for shard in memo.shards:
            shard.cache_clear()  # a known state: the old single cache, from empty, grew its
            # table to 131,072 slots (~2.6 MB at once) on its 43,691st key
    for i in range(1, 43_600):  # each row adds one annotation and one answer: short ASCII keys
        verify_path(f"<<{i}+1={i + 1}>>\n#### {i}", str(i))
    tracemalloc.start()
    try:
        worst = max(peak_of(f"<<{i}+1={i + 1}>>\n#### {i}", str(i)) for i in range(43_600, 43_800))
        worst = max(worst, peak_of(MEMO_REBUILD_ROW, "1"), peak_of(MEMO_FULL_ROW, "1"))
    finally:
        tracemalloc.stop()
    assert verify_path(MEMO_REBUILD_ROW, "1").reject_reason is not None  # rejected, not raised
    assert verify_path(MEMO_FULL_ROW, "1").reject_reason is not None
    assert worst <= MAX_ROW_BYTES, worst


# fuzz/fuzz_import_files.py, import_parquet target: fuzz/seeds_import/parquet/types.parquet with
# one byte changed, so that its date32 column holds a day Python's date cannot: pyarrow's
# OverflowError escaped read_records instead of an InvalidImport (1,448 such inputs in 150,000).
DATE_OUT_OF_RANGE = Path(__file__).parent / "fuzz_inputs" / "parquet_date_out_of_range.parquet"


def test_a_parquet_date_python_cannot_hold_is_an_invalid_import():
    with pytest.raises(InvalidImport, match="a value Python cannot represent"):
        list(read_records(DATE_OUT_OF_RANGE))


@pytest.mark.parametrize("values", [
    pa.array([2**31 - 1], pa.int32()).cast(pa.date32()),
    pa.array([2**62], pa.int64()).cast(pa.timestamp("us")),
    pa.array([2**62], pa.int64()).cast(pa.duration("s")),
])
def test_dates_times_and_durations_out_of_range_name_the_file(tmp_path, values):
    path = tmp_path / "generations.parquet"
    pq.write_table(pa.table({"when": values}), path)
    with pytest.raises(InvalidImport, match=r"generations\.parquet: a value Python cannot represent"):
        list(read_records(path))
