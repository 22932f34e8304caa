"""KMNIST as tensors held in memory: read once, scaled once, batched by indexing.

Training must not wait on data: no DataLoader, no per-image PIL transforms. The section reads
the four official ``.gz`` files itself: the bytes whose MD5 is checked are the bytes that are
decompressed, and the same files are the inputs of the fingerprint (``input_files``).
torchvision only supplies the official MD5s and downloads absent files; its own loader would
read the uncompressed copies beside the ``.gz`` files, which no checksum covers.
"""
import gzip
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torchvision.datasets import KMNIST
from torchvision.datasets.utils import download_url

from report.errors import DataError

from . import RAW_FILES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Split:
    """One split of the data, ready for training."""

    images: torch.Tensor  # (N, 1, 28, 28) float32 in [-1, 1]
    labels: torch.Tensor  # (N,) int64 in 0..9

    def __len__(self) -> int:
        return len(self.labels)

    def to(self, device: torch.device) -> "Split":
        return Split(self.images.to(device), self.labels.to(device))


def raw_folder(root: str | Path) -> Path:
    return Path(root) / "KMNIST" / "raw"


OFFICIAL_SOURCE = "the KMNIST project, github.com/rois-codh/kmnist"


def elsewhere(section: str) -> str:
    """How to point ``section`` at the official files kept somewhere else."""
    return ("point the section at another folder that holds KMNIST/raw/ with the environment "
            f"variable KMNIST_ROOT or `--set {section}.data_dir=...`")


def missing_error(root: str | Path, missing: list[str], section: str = "kmnist") -> DataError:
    """Which files are missing and where they belong; the hint says how to provide them. Errors
    name ``section``, the section that reads the data (kmnist, or one that reuses its loader)."""
    return DataError(
        f"{section}: KMNIST data not found and could not be downloaded. The section needs the four "
        f"official files {', '.join(RAW_FILES)} in the folder {raw_folder(root)}/. Missing now: "
        f"{', '.join(missing)}. No other data is substituted.",
        f"copy the official files there (from {OFFICIAL_SOURCE}), or {elsewhere(section)}, or allow "
        "network access so torchvision can download them")


def not_official_error(file: Path, md5: str, section: str = "kmnist") -> DataError:
    return DataError(f"{section}: the KMNIST file {file} is not the official one (its MD5 is not "
                     f"{md5}): it is truncated, damaged or a different file, and it will not be "
                     f"used.",
                     f"replace it with the official file (from {OFFICIAL_SOURCE}), or delete it so "
                     f"torchvision downloads it again, or {elsewhere(section)}; then rebuild.")


def download_absent(root: str | Path, section: str = "kmnist") -> None:
    """Fetch each official file that is not in the folder (torchvision checks its MD5)."""
    folder = raw_folder(root)
    missing = [name for name, _ in KMNIST.resources if not (folder / name).is_file()]
    try:
        for name in missing:
            download_url(KMNIST.mirrors[0] + name, str(folder), name, dict(KMNIST.resources)[name])
    except (RuntimeError, OSError) as error:  # offline, a read-only folder, a bad download
        raise missing_error(root, missing, section) from error


def read_verified(file: Path, section: str = "kmnist") -> bytes:
    """The decompressed contents of an official ``.gz`` file, checked before use."""
    md5 = dict(KMNIST.resources)[file.name]
    try:
        packed = file.read_bytes()  # read once: the bytes checked are the bytes decompressed
    except OSError as error:  # a folder, someone else's unreadable file
        raise DataError(f"{section}: cannot read the KMNIST file {file}: {error.strerror}",
                        "make it a readable copy of the official file, then rebuild.") from None
    if hashlib.md5(packed, usedforsecurity=False).hexdigest() != md5:
        raise not_official_error(file, md5, section)
    content = gzip.decompress(packed)
    warn_if_the_copy_differs(file, content, section)
    return content


def warn_if_the_copy_differs(file: Path, official: bytes, section: str = "kmnist") -> None:
    """Name an uncompressed copy beside the ``.gz`` file that does not hold its content: the
    section never reads it, but torchvision and other tools would."""
    copy = file.with_suffix("")
    if copy.exists() and not _holds(copy, official):
        log.warning("%s: %s does not hold the content of the official %s beside it (it is "
                    "truncated, damaged or edited); the build reads the checksummed %s, never "
                    "the copy. Delete the copy, or extract it again from the .gz file.",
                    section, copy, file.name, file.name)


def _holds(file: Path, content: bytes) -> bool:
    try:
        return file.stat().st_size == len(content) and file.read_bytes() == content
    except OSError:  # a folder, someone else's unreadable file
        return False


def parse_idx(content: bytes) -> torch.Tensor:
    """An IDX array of unsigned bytes: magic (0, 0, 8, ndim), ndim big-endian sizes, the data."""
    ndim = content[3]
    shape = np.frombuffer(content, ">u4", count=ndim, offset=4)
    array = np.frombuffer(content, np.uint8, offset=4 + 4 * ndim).reshape(shape)
    return torch.from_numpy(array.copy())  # a writable copy that torch owns


def read_split(root: str | Path, train: bool, section: str = "kmnist") -> tuple[torch.Tensor, torch.Tensor]:
    """The raw split from the official files (downloading absent ones); DataError when offline."""
    download_absent(root, section)
    folder, split = raw_folder(root), "train" if train else "t10k"
    images = parse_idx(read_verified(folder / f"{split}-images-idx3-ubyte.gz", section))  # (N, 28, 28) uint8
    labels = parse_idx(read_verified(folder / f"{split}-labels-idx1-ubyte.gz", section))  # (N,) uint8
    return images, labels.long()


def scale(images: torch.Tensor) -> torch.Tensor:
    """(pixel / 255 - 0.5) / 0.5 on the whole tensor at once."""
    x = images.to(torch.float32).div_(255).sub_(0.5).div_(0.5)  # (N, 28, 28) in [-1, 1]
    return x.unsqueeze(1)  # (N, 1, 28, 28)


def stratified_indices(labels: torch.Tensor, per_class: int) -> torch.Tensor:
    """The first ``per_class`` indices of every class, in dataset order (0 = all)."""
    if per_class == 0:
        return torch.arange(len(labels))
    keep = [torch.nonzero(labels == c).flatten()[:per_class] for c in labels.unique()]
    return torch.cat(keep).sort().values  # (<= 10 * per_class,)


def load_split(root: str | Path, train: bool, per_class: int = 0, section: str = "kmnist") -> Split:
    """Read one split once, keep a stratified subset if asked, scale to [-1, 1]; errors name ``section``."""
    images, labels = read_split(root, train, section)
    keep = stratified_indices(labels, per_class)
    return Split(scale(images[keep]), labels[keep].long())
