"""Part 1: Kuzushiji-MNIST, three classifiers (NetLin, NetFull, NetConv) on the real data.

The section contract (see ``experiments/__init__.py``): ``Config``, ``QUICK``, ``run``,
``invariants`` and ``input_files``. This module imports no torch, so a cached build stays fast;
``run`` imports the heavy modules only when the section actually trains.

Another section that reuses kmnist's data or models takes ``default_data_dir`` and
``input_files`` from here, and the loader, models and training loop from ``experiments.kmnist.api``.
"""
import os
from dataclasses import dataclass, field
from pathlib import Path

from experiments.common import Check, at_least, first_problem, one_of, positive
from report.section import Tolerance

from .checks import invariants

__all__ = ["Config", "QUICK", "run", "invariants", "input_files", "default_data_dir", "TOLERANCES",
           "VOLATILE",
           "MODELS", "OPTIMIZERS", "PRECISIONS", "CLASS_NAMES", "HIRAGANA", "RAW_FILES"]

TITLE = "Kuzushiji-MNIST"
MODELS = ("lin", "full", "conv")
OPTIMIZERS = ("adam", "sgd")
PRECISIONS = ("fp32", "bf16", "fp16")  # fp16 runs on CUDA only (with loss scaling)
CLASS_NAMES = ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")  # label order
HIRAGANA = ("お", "き", "す", "つ", "な", "は", "ま", "や", "れ", "を")
RAW_FILES = (  # the official files in <data_dir>/KMNIST/raw/: all the section reads
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def default_data_dir() -> str:
    """``KMNIST_ROOT``, else the project's git-ignored ``data/`` whatever the working directory."""
    return os.environ.get("KMNIST_ROOT") or str(Path(__file__).resolve().parents[2] / "data")


@dataclass(frozen=True)
class Config:
    """The report's settings; ``--set kmnist.<field>=...`` reaches the course's originals."""

    seed: int = 1  # one fixed seed: weights, shuffling and subsets all follow from it
    # where KMNIST/raw/ lives; moving the data must not invalidate results (checksums do that)
    data_dir: str = field(default_factory=default_data_dir, metadata={"fingerprint": False})
    models: tuple[str, ...] = MODELS  # all three, so the report can compare them
    optimizer: str = "adam"  # converges in 10 epochs; the course used "sgd"
    lr: float = 1e-3  # Adam's usual step size
    momentum: float = 0.9  # used by sgd only (the course's setting)
    batch_size: int = 128  # large enough for fast CPU steps, small enough to generalise
    epochs: int = 10  # where NetConv's test accuracy levels off
    shuffle: bool = True  # reshuffle each epoch; False reproduces the course's fixed order
    hidden: int = 300  # NetFull's width H (238,510 parameters)
    train_per_class: int = 0  # 0 = all 6,000 per class; >0 takes a stratified subset
    test_per_class: int = 0  # 0 = all 1,000 per class
    # fp32 = the report's numbers; bf16 (CPUs with bf16 instructions, CUDA) or fp16 (CUDA)
    # autocast convolutions and matrix products: a faster draft whose numbers differ a little
    precision: str = "fp32"
    # intra-op CPU threads; 0 = the count a short measurement finds fastest before each model
    # trains. The last bits of the numbers follow the count: pin it to rerun bit for bit.
    threads: int = 0

    def __post_init__(self):
        problem = first_problem(_checks(self)) or _hardware_problem(self.precision)
        if problem:
            raise ValueError(f"kmnist config: {problem}")


def _checks(c: Config) -> list[Check]:
    """One (bad, reason) pair per field with a range."""
    unknown = [m for m in c.models if m not in MODELS]
    return [
        (not c.models, f"models is empty; choose from {', '.join(MODELS)}"),
        (bool(unknown), f"unknown model(s) {unknown}; choose from {', '.join(MODELS)}"),
        (len(set(c.models)) != len(c.models), f"models {list(c.models)} has duplicates"),
        one_of(c, "optimizer", OPTIMIZERS),
        positive(c, "lr"),
        (not 0 <= c.momentum < 1, f"momentum must be in [0, 1), got {c.momentum}"),
        *(at_least(c, name, 1) for name in ("batch_size", "epochs", "hidden")),
        *(at_least(c, name, 0) for name in ("train_per_class", "test_per_class", "seed", "threads")),
        (not c.data_dir, "data_dir is empty; set KMNIST_ROOT or --set kmnist.data_dir=..."),
        one_of(c, "precision", PRECISIONS),
    ]


def _hardware_problem(precision: str) -> str | None:
    """Why this machine cannot run ``precision`` natively; torch loads only for reduced ones."""
    if precision == "fp32":
        return None
    from .precision import default_device_type, unsupported

    return unsupported(precision, default_device_type())


# One epoch on 100 training and 50 test images per class, through the same loading code, on
# one thread, so that two quick runs give the same bits whatever the load.
QUICK = {"epochs": 1, "train_per_class": 100, "test_per_class": 50, "threads": 1}

# What `--verify` allows a rerun. A rerun whose arithmetic differs in the last bits (another
# CPU or GPU, another thread count) trains like another seed, so each tolerance is 3 sd over
# seeds of the full profile: seeds 1-5 on an H200 GPU, and NetConv's accuracy over seeds 1-3
# on this project's 2-core CPU (sd 0.51 points, the largest seen).
TOLERANCES = {
    "models.*.accuracy": Tolerance("3 sd over seeds; sd at most 0.51 points (NetConv)", abs_tol=0.015),
    "models.*.test_loss": Tolerance("3 sd over seeds; sd at most 0.020 (NetConv)", abs_tol=0.06),
    "models.*.history.test_accuracy[*]": Tolerance("3 sd of an epoch's accuracy over seeds; sd at most "
                                                   "1.1 points (NetFull)", abs_tol=0.033),
    "models.*.history.*_loss[*]": Tolerance("3 sd of an epoch's loss over seeds; sd at most 0.031 "
                                            "(NetConv's test loss)", abs_tol=0.09),
    **{f"models.{key}.{counts}": Tolerance(f"3 sd of a {name} confusion count over seeds; sd at most "
                                           f"{sd} images", abs_tol=3 * sd)
       for key, name, sd in (("lin", "NetLin", 59), ("full", "NetFull", 39), ("conv", "NetConv", 28))
       for counts in ("confusion[*][*]", "confused_pairs[*].count")},
    "confused_pairs_all[*].count": Tolerance("3 sd of a summed confusion count over seeds; sd at most "
                                             "91 images", abs_tol=273),
    "**.truth": Tolerance("a most-confused pair is ranked by noisy counts, so another pair can take "
                          "its place", abs_tol=len(CLASS_NAMES) - 1),
    "**.predicted": Tolerance("as for the true class of a most-confused pair", abs_tol=len(CLASS_NAMES) - 1),
}
VOLATILE = {
    "models.*.train_seconds": "wall time of the training on the machine that ran it",
    "models.*.threads": "picked by timing each thread count on the machine that ran it (kmnist.threads pins it)",
}


def run(config: Config, ctx) -> dict:
    """Train and evaluate each model in ``config.models``; return plain JSON data."""
    from .section import run_section

    return run_section(config, ctx)


def input_files(config) -> dict[str, Path]:
    """The four official ``.gz`` files: the section decompresses these very files (never the
    uncompressed copies beside them), so their checksums in the fingerprint cover all it reads.
    Any config with a ``data_dir`` will do: a section reusing the loader has the same inputs."""
    raw = Path(config.data_dir) / "KMNIST" / "raw"
    return {name: raw / name for name in RAW_FILES}
