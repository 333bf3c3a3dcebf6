"""``topicmf analyze`` on a shard folder made by ``topicmf build-matrix``: the options that
go with one, and the fit on shards, in memory or on a Dask cluster."""

from __future__ import annotations

from pathlib import Path

from ..errors import InvalidParameterError
from ._common import progress


def shard_folder(args) -> Path | None:
    """PATH as a shard folder when it is one (checking the options that need one or do not
    apply to one), else None."""
    from ..shards import is_shard_folder

    path = Path(args.path)
    dask = args.scheduler or args.workers
    if not is_shard_folder(path):
        if args.engine in ("shards", "dask"):
            raise InvalidParameterError(
                f"--engine {args.engine} fits a shard folder, and {args.path} is not one; make "
                f"one with: topicmf build-matrix {args.path} --out SHARDS")
        if dask:
            raise InvalidParameterError("--scheduler and --workers go with --engine dask on a "
                                        "shard folder.")
        return None
    given = ["--" + name.replace("_", "-") for name, default in args.build_defaults.items()
             if getattr(args, name) != default]
    if given:
        raise InvalidParameterError(
            f"{', '.join(given)} cannot change a shard folder's matrix ({args.path} was built "
            f"with its own settings); leave {'them' if len(given) > 1 else 'it'} out, or "
            f"rebuild with topicmf build-matrix.")
    if dask and args.engine != "dask":
        raise InvalidParameterError("--scheduler and --workers go with --engine dask.")
    if args.engine == "dask" and bool(args.scheduler) == bool(args.workers):
        raise InvalidParameterError("--engine dask needs either --scheduler ADDR (a running "
                                    "cluster) or --workers N (start one here).")
    if args.workers is not None and not 1 <= args.workers <= 256:
        raise InvalidParameterError(f"--workers must be between 1 and 256; got {args.workers}.")
    if args.out and inside(Path(args.out), path):
        raise InvalidParameterError(f"--out {args.out} is inside the shard folder {args.path}; "
                                    f"choose an output folder outside it.")
    return path


def fit_shards(args, folder: Path, seed_words):
    from contextlib import ExitStack

    from ..pipeline_shards import analyze_shards

    engine = args.engine or "shards"
    with ExitStack() as stack:
        client = None
        if engine == "dask":
            from ..engine.cluster import connect
            client = stack.enter_context(connect(scheduler=args.scheduler, workers=args.workers))
        with progress(args) as report:
            return analyze_shards(folder, args.topics, models=args.model, engine=engine,
                                  client=client, random_state=args.seed, max_iter=args.max_iter,
                                  top_n=args.top_n, progress=report, background=args.background,
                                  seed_words=seed_words, seed_strength=args.seed_strength)


def inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents
