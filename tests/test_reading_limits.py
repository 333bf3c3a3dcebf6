"""Hostile input: reading is bounded in memory and time (gzip bombs, very long documents and
lines, oversized records, symbolic-link loops, FIFOs and devices, folders of empty files)."""

import contextlib
import gzip
import json
import os
import signal
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import pytest

from topicmf.corpus import load_corpus, stream_corpus
from topicmf.errors import CorpusError, InvalidParameterError, TopicmfWarning

ROOT = Path(__file__).resolve().parents[1]
MB = 1 << 20


def write_gzip_lines(path: Path, line: bytes, count: int) -> Path:
    """A .jsonl.gz of ``count`` copies of ``line``, written without holding them all."""
    with gzip.open(path, "wb", compresslevel=6) as out:
        block = line * max(1, MB // len(line))
        whole, rest = divmod(count, max(1, MB // len(line)))
        for _ in range(whole):
            out.write(block)
        out.write(line * rest)
    return path


def jsonl_line(text: str, **fields) -> bytes:
    return (json.dumps({"text": text, **fields}) + "\n").encode()


@contextlib.contextmanager
def deadline(seconds: float):
    """Fail, instead of hanging, when the body takes longer than ``seconds``."""
    def expired(signum, frame):
        raise TimeoutError(f"still reading after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def peak_traced_memory():
    """Yield a list that holds, after the block, the peak of traced allocations in bytes."""
    peak = []
    tracemalloc.start()
    try:
        yield peak
    finally:
        peak.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


# ---------------------------------------------------------------------------- gzip bombs

@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    """120 MB of JSON lines in about 0.2 MB: over the 100 MB floor and 200 times its size."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.jsonl.gz"
    return write_gzip_lines(path, jsonl_line("spam eggs " * 100), 120 * MB // 1015)


def test_a_gzip_bomb_stops_with_a_one_line_error(bomb):
    compressed = bomb.stat().st_size
    assert compressed * 200 < 100 * MB  # the floor is what this bomb passes
    with pytest.raises(CorpusError) as error:
        load_corpus(bomb)
    message = str(error.value)
    assert message.startswith(f"{bomb} unpacks to more than 104.9 MB from ")
    assert "over 200 times its size" in message
    assert message.endswith("raise 'max_unpacked_ratio'")
    assert "\n" not in message


def test_the_stream_build_matrix_reads_stops_the_same_way(bomb):
    with pytest.raises(CorpusError, match=r"unpacks to more than .* 'max_unpacked_ratio'"):
        for _ in stream_corpus(bomb):
            pass


def test_a_lower_ratio_stops_sooner_a_higher_one_lets_the_file_through(tmp_path, bomb):
    # Past the floor, the ratio decides: 3 MB that unpack to 120 MB (about 40 times).
    mixed = tmp_path / "mixed.jsonl.gz"
    with gzip.open(mixed, "wb", compresslevel=1) as out:
        for i in range(120):
            out.write(b"".join(jsonl_line(os.urandom(24).hex() + " spam" * 180, n=i * 1000 + j)
                               for j in range(1000)))
    compressed = mixed.stat().st_size
    assert 100 * MB < 50 * compressed
    with pytest.raises(CorpusError, match=r"unpacks to more than .* over 10 times its size"):
        load_corpus(mixed, max_unpacked_ratio=10)
    # The bomb, allowed: read whole, and the documents are its lines.
    first = load_corpus(bomb, max_unpacked_ratio=10_000, limit=2)
    assert first.texts == ["spam eggs " * 100] * 2
    assert load_corpus(bomb, max_unpacked_ratio=None, limit=1).texts == ["spam eggs " * 100]


def test_a_small_file_that_compresses_very_well_is_read(tmp_path):
    path = write_gzip_lines(tmp_path / "small.jsonl.gz", jsonl_line("same words " * 50),
                            20_000)
    assert path.stat().st_size * 200 < 10 * MB  # 10 MB from a file 1,000 times smaller
    corpus = load_corpus(path)
    assert len(corpus) == 20_000 and set(corpus.texts) == {"same words " * 50}


BOMB_SCRIPT = """
import json, resource, sys, time
from topicmf.corpus import load_corpus
from topicmf.errors import CorpusError
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
try:
    load_corpus(sys.argv[1])
    error = None
except CorpusError as exc:
    error = str(exc)
growth_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"error": error, "seconds": time.perf_counter() - start,
                  "growth_mb": growth_kb / 1024}))
"""


@pytest.mark.parametrize("shape", ["one line", "many lines"])
def test_a_300_mb_bomb_with_the_defaults_in_bounded_memory_and_time(tmp_path, shape):
    # The report: a small .jsonl.gz unpacking to gigabytes, "one line of repeated words".
    path = tmp_path / "bomb.jsonl.gz"
    words = b"spam eggs ham " * 75_000  # about 1 MB
    with gzip.open(path, "wb", compresslevel=6) as out:
        if shape == "one line":
            out.write(b'{"text": "')
            for _ in range(300):
                out.write(words)
            out.write(b'"}\n')
        else:
            line = jsonl_line("spam eggs ham " * 700)
            for _ in range(300 * MB // len(words)):
                out.write(line * (len(words) // len(line)))
    result = subprocess.run([sys.executable, "-c", BOMB_SCRIPT, str(path)], capture_output=True,
                            text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout)
    assert measured["error"] is not None and measured["error"].startswith(str(path))
    assert "unpacks to more than" in measured["error"]
    assert measured["seconds"] < 10
    assert measured["growth_mb"] < 500


# ---------------------------------------------------------------------------- long documents

def test_a_long_line_is_cut_with_a_warning_and_never_held_whole(tmp_path):
    path = tmp_path / "titles.txt"
    with path.open("w", encoding="utf-8") as out:
        out.write("first title\n")
        for _ in range(40):
            out.write("word " * 200_000)  # one line of 40 M characters
        out.write("\nlast title\n")
    with peak_traced_memory() as peak, pytest.warns(TopicmfWarning) as record:
        corpus = load_corpus(path, lines=True, max_doc_chars=1000)
    assert corpus.ids == ["titles.txt:1", "titles.txt:2", "titles.txt:3"]
    assert corpus.texts == ["first title", ("word " * 200)[:-1], "last title"]
    assert [str(w.message) for w in record] == [
        f"{path}: 1 document longer than 1,000 characters cut to that length (titles.txt:2); "
        f"raise 'max_doc_chars' to keep more"]
    assert peak[0] < 20 * MB  # the line alone is 40 MB


@pytest.mark.parametrize("where", ["file", "folder"])
def test_a_long_file_is_cut_with_a_warning_and_never_held_whole(tmp_path, where):
    folder = tmp_path / "docs"
    folder.mkdir()
    long = folder / "long.txt"
    with long.open("w", encoding="utf-8") as out:
        for _ in range(40):
            out.write("line of text\n" * 80_000)  # 40 MB
    (folder / "short.txt").write_text("a short one", encoding="utf-8")
    path = long if where == "file" else folder
    with peak_traced_memory() as peak, pytest.warns(TopicmfWarning, match=r"1 document longer "
                                                    r"than 100 characters cut .*\(long.txt\)"):
        corpus = load_corpus(path, max_doc_chars=100)
    assert corpus.texts[0] == ("line of text\n" * 8)[:100]
    assert corpus.texts[1:] == ([] if where == "file" else ["a short one"])
    assert peak[0] < 20 * MB


def test_trailing_blank_text_past_the_limit_is_no_cut(tmp_path):
    path = tmp_path / "doc.txt"
    path.write_text("x" * 50 + " \n" * 20, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_corpus(path, max_doc_chars=50).texts == ["x" * 50]


def test_long_texts_in_jsonl_and_csv_are_cut_and_named_by_id_and_line(tmp_path):
    jsonl = tmp_path / "docs.jsonl"
    jsonl.write_text(json.dumps({"id": "a", "text": "short"}) + "\n\n"
                     + json.dumps({"id": "b", "text": "é" * 500}) + "\n", encoding="utf-8")
    with pytest.warns(TopicmfWarning, match=r"1 document longer than 100 characters cut to "
                                            r"that length \(b \(line 3\)\)"):
        corpus = load_corpus(jsonl, max_doc_chars=100)
    assert corpus.texts == ["short", "é" * 100]
    csv_file = tmp_path / "docs.csv"
    csv_file.write_text("text\nshort\n\"" + "long\n" * 100 + "\"\n", encoding="utf-8")
    with pytest.warns(TopicmfWarning, match=r"\(row-2 \(line 3\)\)"):
        corpus = load_corpus(csv_file, max_doc_chars=12)
    assert corpus.texts == ["short", "long\nlong\nlo"]


def test_no_limit_keeps_a_long_document_whole(tmp_path):
    path = tmp_path / "doc.txt"
    path.write_text("word " * 3_000_000, encoding="utf-8")  # over 10 MB, the default
    with pytest.warns(TopicmfWarning, match="longer than 10,000,000 characters"):
        assert len(load_corpus(path).texts[0]) == 10_000_000
    assert len(load_corpus(path, max_doc_chars=None).texts[0]) == 15_000_000


def test_a_record_too_long_to_parse_is_a_one_line_error(tmp_path):
    # A csv row or jsonl line may be 8 x max_doc_chars + 64 Ki characters (65,616 for 10).
    jsonl = tmp_path / "big.jsonl"
    jsonl.write_text(json.dumps({"text": "ok"}) + "\n" + json.dumps({"text": "z" * 70_000})
                     + "\n", encoding="utf-8")
    with pytest.raises(CorpusError) as error:
        load_corpus(jsonl, max_doc_chars=10)
    assert str(error.value) == (
        f"{jsonl} line 2 is in a record longer than 65,616 characters (8 times 'max_doc_chars' "
        f"and some room); if the record is genuine, raise 'max_doc_chars'")
    with pytest.warns(TopicmfWarning, match=r"cut to that length \(row-2 \(line 2\)\)"):
        assert load_corpus(jsonl, max_doc_chars=10_000).texts[1] == "z" * 10_000
    one_line = tmp_path / "row.csv"
    one_line.write_text("text\nfine\n" + "y," * 40_000 + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"row\.csv line 3 is in a record longer than 65,616"):
        load_corpus(one_line, max_doc_chars=10)
    many_lines = tmp_path / "cell.csv"  # a quoted cell of short lines
    many_lines.write_text('text\nfine\n"' + "short line\n" * 7000 + '"\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"cell\.csv line 5968 is in a record longer than"):
        load_corpus(many_lines, max_doc_chars=10)


@pytest.mark.parametrize("kwargs, message", [
    ({"max_doc_chars": 0}, "The 'max_doc_chars' parameter of load_corpus must be an int in "
                           "the range [1, inf] or None. Got 0 instead."),
    ({"max_unpacked_ratio": 0.5}, "The 'max_unpacked_ratio' parameter of load_corpus must be a "
                                  "float in the range [1, inf] or None. Got 0.5 instead."),
])
def test_limits_are_checked(tmp_path, kwargs, message):
    path = tmp_path / "a.txt"
    path.write_text("text", encoding="utf-8")
    with pytest.raises(InvalidParameterError) as error:
        load_corpus(path, **kwargs)
    assert str(error.value) == message


# ---------------------------------------------------------------------------- hostile folders

def test_a_symlink_loop_is_not_followed(tmp_path):
    root = tmp_path / "corpus"
    (root / "a").mkdir(parents=True)
    (root / "a" / "doc.txt").write_text("a document", encoding="utf-8")
    (root / "b").mkdir()
    (root / "b" / "doc.txt").write_text("another", encoding="utf-8")
    (root / "a" / "loop").symlink_to(root, target_is_directory=True)
    (root / "b" / "again").symlink_to(root / "a", target_is_directory=True)
    with deadline(20), pytest.warns(TopicmfWarning) as record:
        corpus = load_corpus(root)
    assert corpus.ids == ["a/doc.txt", "b/doc.txt"]
    assert corpus.skipped == [("a/loop", "link to a folder"), ("b/again", "link to a folder")]
    assert [str(w.message) for w in record] == [
        f"{root}: skipped 2 files (link to a folder): a/loop, b/again"]


FOLDER_SCRIPT = """
import resource, sys, warnings
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))  # reading /dev/zero must fail fast
from topicmf.corpus import load_corpus
with warnings.catch_warnings(record=True) as record:
    warnings.simplefilter("always")
    corpus = load_corpus(sys.argv[1])
print(corpus.ids)
print([str(w.message) for w in record])
"""


def test_fifos_and_devices_are_skipped_without_blocking(tmp_path):
    # In a child with a time and memory limit: a reader that opens the FIFO waits for ever,
    # one that reads /dev/zero takes all the memory it can get.
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "good.txt").write_text("a document", encoding="utf-8")
    os.mkfifo(folder / "pipe.txt")
    (folder / "zero.txt").symlink_to("/dev/zero")
    result = subprocess.run([sys.executable, "-c", FOLDER_SCRIPT, str(folder)],
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "['good.txt']",
        str([f"{folder}: skipped 2 files (not a regular file): pipe.txt, zero.txt"])]
    with pytest.raises(CorpusError, match=r"pipe\.txt is not a regular file"):
        load_corpus(folder / "pipe.txt")


def test_20000_empty_files_are_read_quickly_with_one_warning(tmp_path):
    for i in range(20_000):
        (tmp_path / f"{i:05d}.txt").touch()
    (tmp_path / "real.txt").write_text("the only document", encoding="utf-8")
    start = time.perf_counter()
    with pytest.warns(TopicmfWarning) as record:
        corpus = load_corpus(tmp_path)
    seconds = time.perf_counter() - start
    assert corpus.ids == ["real.txt"] and len(corpus.skipped) == 20_000
    assert [str(w.message) for w in record] == [
        f"{tmp_path}: skipped 20000 files (empty): 00000.txt, 00001.txt, 00002.txt, 00003.txt, "
        f"00004.txt, ..."]
    assert seconds < 20
