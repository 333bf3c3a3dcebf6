import topicmf
from topicmf import errors


def test_all_lists_exactly_the_public_names():
    public = {name for name in vars(topicmf) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(topicmf, name)).__name__ == "module"}
    assert set(topicmf.__all__) == public - modules
    for name in topicmf.__all__:
        assert getattr(topicmf, name) is not None


def test_error_tree():
    assert issubclass(errors.VocabularyError, errors.CorpusError)
    assert issubclass(errors.CorpusError, errors.TopicmfError)
    assert issubclass(errors.InvalidParameterError, ValueError)
    assert issubclass(errors.NotFittedError, AttributeError)
    assert issubclass(errors.NotFittedError, ValueError)
    for name in errors.__all__:
        assert name in errors.__doc__
