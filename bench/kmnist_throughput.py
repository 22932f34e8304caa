"""Images per second: our KMNIST training loop against the plain loops a user would write.

Ours: ``experiments.kmnist.train.train_one_epoch`` (tensors in memory, channels-last conv
nets, fused Adam) in fp32 and bf16, at each thread count the section's probe
(``fastest_threads``) chooses from; "ours" is the count the probe picks at the start.
Plain: the same tensors in memory, shuffled batches by indexing, the model as built,
``torch.optim.Adam``, ``torch.autocast`` around the forward pass for bf16.
DataLoader: ``torchvision.datasets.KMNIST`` with per-image ``ToTensor()`` + ``Normalize``.
All variants of a model alternate in short chunks, repeated, and each reports its median
chunk, so load from other processes hits them alike; the ratios are what count. NetConv's
achieved GFLOP/s (its training step's FLOPs counted by ``FlopCounterMode``) is printed
beside the fp32 and bf16 matrix-product rates measured on this machine.

``--section`` instead builds the whole section (all models, the report's settings) in fp32
and bf16 alternately for each seed: wall time and the test accuracy each precision reaches.

    python bench/kmnist_throughput.py                  # all models, 5 rounds
    python bench/kmnist_throughput.py --short          # 3 rounds of half-size chunks
    python bench/kmnist_throughput.py --section --seeds 1 2 3
"""
import argparse
import math
import statistics
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402
from torchvision import datasets, transforms  # noqa: E402

from experiments import kmnist  # noqa: E402
from experiments.kmnist import Config  # noqa: E402
from experiments.kmnist.data import load_split  # noqa: E402
from experiments.kmnist.models import NAMES, build_model  # noqa: E402
from experiments.kmnist.precision import autocast  # noqa: E402
from experiments.kmnist.train import (  # noqa: E402
    Settings, cpu_threads, fastest_threads, make_optimizer, prepare_model, thread_candidates,
    train_one_epoch)
from report.context import Context  # noqa: E402

CPU = torch.device("cpu")
PRECISIONS = ("fp32", "bf16")
# images per timed chunk, in-memory loops and DataLoader loop: 0.2-1 s each on an idle machine
CHUNK = {"lin": (60_000, 2_560), "full": (25_600, 2_560), "conv": (1_280, 1_280)}
BATCH = 128
GOAL_VS_PLAIN = 1.0  # ours / plain loop, every model in fp32
GOAL_BF16 = 1.8  # NetConv, ours bf16 / ours fp32
GOAL_SECTION = 1.6  # whole section, fp32 seconds / bf16 seconds


def shuffled(n_images: int, n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` indices from as many fresh permutations as it takes: epochs, as training sees them."""
    epochs = math.ceil(n / n_images)
    return torch.cat([torch.randperm(n_images, generator=generator) for _ in range(epochs)])[:n]


def timed(step):
    """A chunk function: run ``step(n)``, return its seconds."""
    def chunk(n: int) -> float:
        start = time.perf_counter()
        step(n)
        return time.perf_counter() - start
    return chunk


def ours(key: str, train, precision: str, thread_count: int):
    torch.manual_seed(1)
    model = prepare_model(build_model(key, hidden=300), CPU)
    optimizer = make_optimizer(model.parameters(), Settings())
    generator = torch.Generator().manual_seed(1)

    def step(n: int):
        with cpu_threads(thread_count):
            train_one_epoch(model, optimizer, train.images, train.labels, BATCH,
                            shuffled(len(train), n, generator), precision=precision)
    return timed(step)


def plain(key: str, train, precision: str):
    """The simplest fast loop: index shuffled batches of the in-memory tensors."""
    torch.manual_seed(1)
    model = build_model(key, hidden=300)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(1)

    def step(n: int):
        model.train()
        order = shuffled(len(train), n, generator)
        for start in range(0, n, BATCH):
            idx = order[start:start + BATCH]
            optimizer.zero_grad()
            with autocast(CPU, precision):
                loss = F.nll_loss(model(train.images[idx]), train.labels[idx])
            loss.backward()
            optimizer.step()
    return timed(step)


def dataloader(key: str, root: str, precision: str):
    """The tutorial loop: DataLoader, per-image ToTensor + Normalize."""
    torch.manual_seed(1)
    model = build_model(key, hidden=300)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    to_tensor = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    dataset = datasets.KMNIST(root, train=True, download=True, transform=to_tensor)
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True,
                        generator=torch.Generator().manual_seed(1))

    def step(n: int):
        model.train()
        batches = 0
        while batches < n // BATCH:  # a fresh epoch whenever one runs out
            for x, y in islice(loader, n // BATCH - batches):  # x: (128, 1, 28, 28)
                optimizer.zero_grad()
                with autocast(CPU, precision):
                    loss = F.nll_loss(model(x), y)
                loss.backward()
                optimizer.step()
                batches += 1
    return timed(step)


def variants(key: str, train, root: str) -> dict[tuple, tuple]:
    """(loop, precision, threads) -> (chunk function, images per chunk)."""
    memory, loader = CHUNK[key]
    most = torch.get_num_threads()
    found = {}
    for precision in PRECISIONS:
        for count in thread_candidates():
            found["ours", precision, count] = ours(key, train, precision, count), memory
        found["plain", precision, most] = plain(key, train, precision), memory
        found["DataLoader", precision, most] = dataloader(key, root, precision), loader
    return found


def measure(key: str, train, root: str, rounds: int, scale: float) -> dict[tuple, float]:
    """Median images/s of each variant over ``rounds`` interleaved chunks (after a warm-up)."""
    runs = {name: (chunk, int(n * scale))
            for name, (chunk, n) in variants(key, train, root).items()}
    for chunk, n in runs.values():
        chunk(n // 4)  # warm-up: allocator, oneDNN primitive cache
    rates = {name: [] for name in runs}
    for _ in range(rounds):
        for name, (chunk, n) in runs.items():
            rates[name].append(n / chunk(n))
    return {name: statistics.median(r) for name, r in rates.items()}


def training_flops_per_image(key: str) -> float:
    """FLOPs of one training step (forward and backward) per image, as torch counts them."""
    model = build_model(key, hidden=300)
    x, y = torch.zeros(BATCH, 1, 28, 28), torch.zeros(BATCH, dtype=torch.long)
    with FlopCounterMode(display=False) as counter:
        F.nll_loss(model(x), y).backward()
    return counter.get_total_flops() / BATCH


def gemm_gflops(dtype: torch.dtype, size: int = 2048, repeats: int = 5) -> float:
    """The best square matrix-product rate of this machine at the process's threads."""
    a, b = torch.randn(size, size).to(dtype), torch.randn(size, size).to(dtype)
    torch.mm(a, b)  # warm-up
    best = min(timed(lambda _: torch.mm(a, b))(0) for _ in range(repeats))
    return 2 * size ** 3 / best / 1e9


def probed(key: str, train) -> dict[str, int]:
    """The thread count the section's probe picks for ``key``, per precision."""
    model = prepare_model(build_model(key, hidden=300), CPU)
    return {p: fastest_threads(model, train.images, train.labels,
                               Settings(batch_size=BATCH, precision=p)) for p in PRECISIONS}


def ours_rate(rates: dict[tuple, float], precision: str, picked: dict[str, int]) -> float:
    return rates["ours", precision, picked[precision]]


def print_throughput(key: str, rates: dict[tuple, float], picked: dict[str, int]):
    most = torch.get_num_threads()
    for precision in PRECISIONS:
        mine = ours_rate(rates, precision, picked)
        plain_rate = rates["plain", precision, most]
        loader_rate = rates["DataLoader", precision, most]
        each = "".join(f" {rates['ours', precision, t]:11,.0f}" for t in thread_candidates())
        print(f"{NAMES[key]:8} {precision:5}{each} {picked[precision]:6} {mine:11,.0f} "
              f"{plain_rate:11,.0f} {loader_rate:11,.0f} {mine / plain_rate:9.2f}x "
              f"{mine / loader_rate:9.1f}x")


def throughput(args) -> list[str]:
    train = load_split(args.data_dir, train=True)
    rounds, scale = (3, 0.5) if args.short else (args.rounds, 1.0)
    most = torch.get_num_threads()
    print(f"torch {torch.__version__}, {most} threads, batch {BATCH}, {rounds} rounds, "
          f"median images/s per variant")
    each = "".join(f" {f'ours@{t}thr':>11}" for t in thread_candidates())
    print(f"{'model':8} {'prec':5}{each} {'probe':>6} {'ours':>11} {'plain':>11} "
          f"{'DataLoader':>11} {'ours/plain':>10} {'ours/DL':>10}")
    verdicts = []
    for key in args.models:
        picked = probed(key, train)
        rates = measure(key, train, args.data_dir, rounds, scale)
        print_throughput(key, rates, picked)
        ratio = ours_rate(rates, "fp32", picked) / rates["plain", "fp32", most]
        verdicts.append(verdict(f"{NAMES[key]} fp32 ours / plain", ratio, GOAL_VS_PLAIN))
        if key == "conv":
            verdicts += print_limits(rates, picked)
    return verdicts


def print_limits(rates: dict[tuple, float], picked: dict[str, int]) -> list[str]:
    """NetConv's achieved GFLOP/s against the measured GEMM rates, and its bf16 speed-up."""
    flops = training_flops_per_image("conv")
    gemm = {"fp32": gemm_gflops(torch.float32), "bf16": gemm_gflops(torch.bfloat16)}
    print(f"NetConv training step: {flops / 1e6:.1f} MFLOP per image (FlopCounterMode)")
    for precision in PRECISIONS:
        achieved = ours_rate(rates, precision, picked) * flops / 1e9
        print(f"NetConv {precision}: {achieved:6.1f} GFLOP/s = {achieved / gemm[precision]:5.1%} "
              f"of this machine's {precision} GEMM ({gemm[precision]:.0f} GFLOP/s, "
              f"{achieved / gemm['fp32']:.2f}x the fp32 GEMM)")
    speedup = ours_rate(rates, "bf16", picked) / ours_rate(rates, "fp32", picked)
    return [verdict("NetConv ours bf16 / fp32", speedup, GOAL_BF16)]


def verdict(what: str, ratio: float, goal: float) -> str:
    return f"{what}: {ratio:.2f}x, goal >= {goal:g}x: {'met' if ratio >= goal else 'NOT met'}"


def section(args) -> list[str]:
    """The whole section per seed, fp32 then bf16: seconds and accuracies, side by side."""
    seconds = {p: [] for p in PRECISIONS}
    accuracy = {p: {key: [] for key in args.models} for p in PRECISIONS}
    for seed in args.seeds:
        for precision in PRECISIONS:
            config = Config(seed=seed, precision=precision, epochs=args.epochs,
                            models=tuple(args.models), data_dir=args.data_dir)
            with tempfile.TemporaryDirectory() as tmp:
                start = time.perf_counter()
                data = kmnist.run(config, Context(Path(tmp), show_progress=False))
                seconds[precision].append(time.perf_counter() - start)
            for key, m in data["models"].items():
                accuracy[precision][key].append(m["accuracy"])
            print(f"seed {seed} {precision}: {seconds[precision][-1]:6.1f} s, " + ", ".join(
                f"{m['name']} {m['accuracy']:.2%}" for m in data["models"].values()), flush=True)
    print_accuracy_cost(accuracy, args)
    ratios = [f / b for f, b in zip(seconds["fp32"], seconds["bf16"])]
    return [verdict("whole section fp32 / bf16 seconds (median over seeds)",
                    statistics.median(ratios), GOAL_SECTION)]


def print_accuracy_cost(accuracy: dict, args):
    """Per model: mean ± sd per precision and the paired bf16 - fp32 difference."""
    print(f"\n{args.epochs} epochs, seeds {args.seeds}: test accuracy mean ± sd")
    for key in args.models:
        fp32, bf16 = accuracy["fp32"][key], accuracy["bf16"][key]
        diff = [b - f for f, b in zip(fp32, bf16)]
        print(f"{NAMES[key]:8} fp32 {mean_sd(fp32)}  bf16 {mean_sd(bf16)}  "
              f"bf16 - fp32 {mean_sd(diff, signed=True)} (paired by seed)")


def mean_sd(values: list[float], signed: bool = False) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else float("nan")
    return f"{statistics.mean(values) * 100:{'+' if signed else ''}.2f} ± {sd * 100:.2f} %"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(NAMES), choices=list(NAMES))
    parser.add_argument("--rounds", type=int, default=5, help="interleaved chunks per variant")
    parser.add_argument("--short", action="store_true", help="3 rounds of half-size chunks")
    parser.add_argument("--section", action="store_true",
                        help="time the whole section in fp32 and bf16, with accuracies")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1], help="with --section")
    parser.add_argument("--epochs", type=int, default=Config().epochs, help="with --section")
    parser.add_argument("--data-dir", default=Config().data_dir, help="holds KMNIST/raw/")
    args = parser.parse_args(argv)
    verdicts = section(args) if args.section else throughput(args)
    print("\n" + "\n".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
