import subprocess
import sys

import topicmf
from topicmf import errors


def test_all_lists_exactly_the_public_names():
    public = {name for name in dir(topicmf) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(topicmf, name)).__name__ == "module"}
    assert set(topicmf.__all__) == public - modules
    for name in topicmf.__all__:
        assert getattr(topicmf, name) is not None


def test_import_topicmf_loads_nothing_heavy_and_every_name_resolves():
    code = ("import sys, topicmf; heavy = [m for m in ('numpy', 'scipy', 'sklearn', 'gensim', "
            "'matplotlib', 'numba', 'jieba', 'opencc', 'pandas') if m in sys.modules]; "
            "assert not heavy, heavy; "
            "assert callable(topicmf.vectorize) and callable(topicmf.analyze); "
            "import topicmf.vectorize as v; assert v is topicmf.vectorize; "
            "print(sorted(n for n in topicmf.__all__ if getattr(topicmf, n) is None))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_error_tree():
    assert issubclass(errors.VocabularyError, errors.CorpusError)
    assert issubclass(errors.CorpusError, errors.TopicmfError)
    assert issubclass(errors.InvalidParameterError, ValueError)
    assert issubclass(errors.NotFittedError, AttributeError)
    assert issubclass(errors.NotFittedError, ValueError)
    for name in errors.__all__:
        assert name in errors.__doc__
