"""Shared fixtures: small corpora made on the fly, and where the real corpora live."""

import argparse
import os
import random
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_CORPORA = Path(os.environ.get("TOPICMF_SHARED_CORPORA",
                                     ROOT.parent / "shared" / "corpora"))

FINANCE = ("stocks shares investors earnings dividend bonds yields market index rally "
           "trading portfolio fund profit revenue").split()
POLITICS = ("election voters candidate senate parliament ballot campaign president "
            "legislators poll governor referendum coalition minister").split()


def make_two_topic_texts(n_per_class=12, seed=1):
    """Short documents from two disjoint vocabularies, with shared filler words."""
    rng = random.Random(seed)
    texts = {}
    for label, words in (("finance", FINANCE), ("politics", POLITICS)):
        for i in range(n_per_class):
            picked = rng.sample(words, 6) + rng.sample(["today", "report", "week"], 1)
            texts[f"{label}/{i:03d}.txt"] = "The " + " and ".join(picked) + "."
    return texts


@pytest.fixture
def two_topic_folder(tmp_path):
    root = tmp_path / "news"
    for name, text in make_two_topic_texts().items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def subcommand_parser(add_parser):
    """A ``topicmf`` parser with the common flags and the one subcommand ``add_parser`` adds."""
    parser = argparse.ArgumentParser(prog="topicmf")
    commands = parser.add_subparsers(dest="command")
    common = argparse.ArgumentParser(add_help=False)
    for flag in ("--quiet", "--json", "--debug"):
        common.add_argument(flag, action="store_true")
    add_parser(commands, common)
    return parser
