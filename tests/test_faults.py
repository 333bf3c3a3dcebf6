"""Faults: a full disk, a read-only output, Ctrl-C and SIGTERM at any point of a run, two runs
into one folder at once. The output folder holds the old results or all of the new ones, never
a mix; nothing is left beside it; the user's files are untouched."""

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from topicmf.cli import main
from topicmf.errors import OutputError
from topicmf.io import _commit_guard, staged_output

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "corpora" / "finance-politics-en"


def snapshot(folder: Path) -> dict:
    """path -> sha256 of every file under ``folder``."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if ".partial" in p.name or ".old-" in p.name]


def test_a_full_disk_is_one_line_and_keeps_the_old_results(two_topic_folder, tmp_path, capsys,
                                                           monkeypatch):
    out = tmp_path / "out"
    assert main(["analyze", str(two_topic_folder), "--topics", "2", "--min-df", "1",
                 "--out", str(out), "--quiet"]) == 0
    before = snapshot(out)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "x" / "model.npz"))

    monkeypatch.setattr("topicmf.export.save_analysis", full)
    status = main(["analyze", str(two_topic_folder), "--topics", "2", "--min-df", "1",
                   "--seed", "3", "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 1 and err.count("\n") == 1
    assert "No space left on device" in err and "model.npz" in err and "--out" in err
    assert snapshot(out) == before and not leftovers(tmp_path)


def test_a_read_only_place_is_one_line(two_topic_folder, tmp_path, capsys, monkeypatch):
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr("tempfile.mkdtemp", read_only)
    status = main(["analyze", str(two_topic_folder), "--topics", "2", "--min-df", "1",
                   "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 1 and "Read-only file system" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_signals_wait_for_the_moves_to_finish(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with staged_output(tmp_path / "out") as staging:
            (staging / "a.txt").write_text("new", encoding="utf-8")
            with _commit_guard(tmp_path):
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
                (tmp_path / "inside-guard").write_text("reached", encoding="utf-8")
    assert (tmp_path / "inside-guard").exists()  # the signal waited for the guard's end


def _run(out: Path, seed: int, *extra):
    return subprocess.Popen(
        [sys.executable, "-m", "topicmf", "analyze", str(DEMO), "--topics", "2", "--model",
         "all", "--seed", str(seed), "--out", str(out), "--quiet", *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("reference") / "out"
    start = time.perf_counter()
    done = _run(out, 1)
    _, err = done.communicate(timeout=120)
    assert done.returncode == 0, err
    return {"files": set(snapshot(out)), "seconds": time.perf_counter() - start,
            "topics": {m: json.loads((out / m / "topics.json").read_text(encoding="utf-8"))
                       ["topics"] for m in ("lsa", "nmf", "plsa")}}


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
@pytest.mark.parametrize("point", [0.1, 0.4, 0.7, 0.9, 0.97, 1.0])
def test_a_signal_at_any_point_leaves_old_or_new(reference, tmp_path, signum, status, point):
    """``point``: when the signal comes, as a share of an uninterrupted run's time (reading,
    fitting three models, the report, the moves into place)."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("the old run", encoding="utf-8")
    (tmp_path / "mine.txt").write_text("a user's file beside it", encoding="utf-8")
    before = snapshot(out)
    run = _run(out, 1)
    time.sleep(point * reference["seconds"])
    run.send_signal(signum)
    _, err = run.communicate(timeout=120)
    code = run.returncode
    assert "Traceback" not in err
    # 0: the run had finished; status: it stopped and said so; -signum: the signal came while
    # Python was starting, before any handler (nothing was begun, so nothing may be left).
    assert code in (0, status, -signum), (code, err)
    after = snapshot(out)
    after.pop("old.txt", None)  # a run replaces its own files; others in the folder stay
    assert (out / "old.txt").read_text(encoding="utf-8") == "the old run"
    if code == status:
        assert "written whole or not at all" in err
    assert after == {} or _complete_run_files(out, reference), sorted(after)
    assert (tmp_path / "mine.txt").read_text(encoding="utf-8") == "a user's file beside it"
    assert not leftovers(tmp_path)
    assert before.keys() <= snapshot(out).keys()


def _complete_run_files(out: Path, reference: dict) -> bool:
    names = set(snapshot(out)) - {"old.txt"}
    if names != reference["files"]:
        return False
    return all(json.loads((out / m / "topics.json").read_text(encoding="utf-8"))["topics"]
               == reference["topics"][m] for m in ("lsa", "nmf", "plsa"))


def test_two_runs_into_one_folder_at_once_leave_one_whole_run(reference, tmp_path):
    out = tmp_path / "out"
    first, second = _run(out, 1), _run(out, 1, "--top-n", "5")
    for run in (first, second):
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
    topics = {m: json.loads((out / m / "topics.json").read_text(encoding="utf-8"))["topics"]
              for m in ("lsa", "nmf", "plsa")}
    lengths = {len(topic["terms"]) for m in topics for topic in topics[m]}
    assert len(lengths) == 1  # every model's file from the same run, never a mix
    assert set(snapshot(out)) == reference["files"]
    assert not leftovers(tmp_path)


def test_two_commits_at_once_do_not_interleave(tmp_path, monkeypatch):
    """Each run's moves into the folder hold a lock: slowed down, two at once still leave every
    file from one of them."""
    import threading

    from topicmf import io as topicmf_io

    slow_replace = topicmf_io._replace

    def replace(source, target):  # the first run moves slowly, the second at once
        slow_replace(source, target)
        if threading.current_thread().name == "first":
            time.sleep(0.05)

    monkeypatch.setattr(topicmf_io, "_replace", replace)
    out = tmp_path / "out"

    def write(tag):
        with staged_output(out) as staging:
            for name in ("a", "b", "c", "d"):
                (staging / name).write_text(tag, encoding="utf-8")

    runs = [threading.Thread(target=write, args=(tag,), name=tag) for tag in ("first", "second")]
    for run in runs:
        run.start()
        time.sleep(0.02)
    for run in runs:
        run.join()
    contents = {(out / name).read_text(encoding="utf-8") for name in ("a", "b", "c", "d")}
    assert len(contents) == 1


def test_an_output_path_with_a_nul_is_one_line(two_topic_folder, tmp_path, capsys):
    for argv in (["analyze", str(two_topic_folder), "--topics", "2", "--out", "a\x00b"],
                 ["build-matrix", str(two_topic_folder), "--out", "a\x00b"]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "NUL character" in err and "Traceback" not in err
