"""Images per second: our KMNIST training loop against a plain DataLoader loop, in one run.

Ours: tensors held in memory, batches by indexing a seeded permutation, channels-last conv
nets, fused Adam, one thread for the small nets (``experiments.kmnist.train``).
Reference: ``DataLoader`` over ``torchvision.datasets.KMNIST`` with ``ToTensor()`` +
``Normalize`` per image, the same model class with default settings and
``torch.optim.Adam``. The two alternate in short chunks so that load from other processes
hits both alike; the ratio is what counts.

    python bench/kmnist_throughput.py                 # all three models, 3 rounds
    python bench/kmnist_throughput.py --models conv --rounds 5
"""
import argparse
import sys
import time
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402
from torchvision import datasets, transforms  # noqa: E402

from experiments.kmnist import Config  # noqa: E402
from experiments.kmnist.data import load_split  # noqa: E402
from experiments.kmnist.models import NAMES, build_model  # noqa: E402
from experiments.kmnist.train import (  # noqa: E402
    Settings, cpu_threads, make_optimizer, prepare_model, train_one_epoch)

GOALS = {"lin": 10.0, "conv": 1.3}  # issue 3: ratio ours / reference on this machine
CHUNK = {"lin": 25_600, "full": 12_800, "conv": 1_280}  # images per timed chunk (~1 s ref)
BATCH = 128


def ours(key: str, train, seed: int):
    """A closure that trains ``n`` images with our loop and returns the seconds taken."""
    torch.manual_seed(seed)
    model = prepare_model(build_model(key, hidden=300), torch.device("cpu"))
    optimizer = make_optimizer(model.parameters(), Settings())
    generator = torch.Generator().manual_seed(seed)

    def chunk(n: int) -> float:
        order = torch.randperm(len(train), generator=generator)[:n]  # (n,)
        with cpu_threads(model):
            start = time.perf_counter()
            train_one_epoch(model, optimizer, train.images, train.labels, BATCH, order)
            return time.perf_counter() - start
    return chunk


def reference(key: str, root: str, seed: int):
    """The same, the plain way: DataLoader, per-image ToTensor + Normalize, default model."""
    torch.manual_seed(seed)
    model = build_model(key, hidden=300)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    to_tensor = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    dataset = datasets.KMNIST(root, train=True, download=True, transform=to_tensor)
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))

    def chunk(n: int) -> float:
        model.train()
        start = time.perf_counter()
        for x, y in islice(loader, n // BATCH):  # x: (128, 1, 28, 28) in [-1, 1]
            optimizer.zero_grad()
            F.nll_loss(model(x), y).backward()
            optimizer.step()
        return time.perf_counter() - start
    return chunk


def measure(key: str, train, root: str, rounds: int) -> tuple[float, float]:
    """Alternate ours / reference chunks (after one warm-up each); images per second."""
    runs, n = (ours(key, train, seed=1), reference(key, root, seed=1)), CHUNK[key]
    for run in runs:
        run(n // 4)  # warm-up: allocator, oneDNN primitive cache
    seconds = [0.0, 0.0]
    for _ in range(rounds):
        for i, run in enumerate(runs):
            seconds[i] += run(n)
    return rounds * n / seconds[0], rounds * n / seconds[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["lin", "full", "conv"],
                        choices=list(NAMES))
    parser.add_argument("--rounds", type=int, default=3, help="alternating chunks per model")
    parser.add_argument("--data-dir", default=Config().data_dir, help="holds KMNIST/raw/")
    args = parser.parse_args(argv)
    train = load_split(args.data_dir, train=True)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {BATCH}, "
          f"{args.rounds} rounds")
    print(f"{'model':8} {'ours img/s':>11} {'reference img/s':>16} {'ratio':>7} {'goal':>6}")
    for key in args.models:
        mine, theirs = measure(key, train, args.data_dir, args.rounds)
        goal = GOALS.get(key)
        verdict = "-" if goal is None else ("met" if mine / theirs >= goal else "NOT met")
        goal_text = "-" if goal is None else f">={goal:g}x"
        print(f"{NAMES[key]:8} {mine:11,.0f} {theirs:16,.0f} {mine / theirs:6.1f}x "
              f"{goal_text:>6} {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
