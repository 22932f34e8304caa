"""KMNIST as tensors held in memory: read once, scaled once, batched by indexing.

Training must not wait on data: no DataLoader, no per-image PIL transforms. torchvision only
reads (and, where absent, downloads) the four official files.
"""
from dataclasses import dataclass
from pathlib import Path

import torch
from torchvision.datasets import KMNIST
from torchvision.datasets.utils import check_md5

from report.errors import DataError

from . import RAW_FILES


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


def missing_error(root: str | Path) -> DataError:
    """Which files are missing and where they belong; the hint says how to provide them."""
    folder = raw_folder(root)
    missing = [name for name in RAW_FILES if not (folder / name).is_file()]
    absent = f" Missing now: {', '.join(missing)}." if missing else (
        " All four are present, so at least one is not the official file (MD5 mismatch).")
    return DataError(
        f"kmnist: KMNIST data not found and could not be downloaded. The section needs the four "
        f"official files {', '.join(RAW_FILES)} in the folder {folder}/.{absent} No other data "
        f"is substituted.",
        "copy the official files there (from the KMNIST project, github.com/rois-codh/kmnist), "
        "or point the section at a folder that holds KMNIST/raw/ with the environment variable "
        "KMNIST_ROOT or `--set kmnist.data_dir=...`, or allow network access so torchvision can "
        "download them")


def verify_checksums(root: str | Path) -> None:
    """Every KMNIST file present must be the official one (torchvision's MD5); a wrong one is never used.

    torchvision itself only checks files it downloads, and reads the extracted copies after that.
    """
    folder = raw_folder(root)
    for url, md5 in KMNIST.resources:
        file = folder / Path(url).name
        if file.is_file() and not check_md5(str(file), md5):
            raise DataError(f"kmnist: the KMNIST file {file} is not the official one (its MD5 is "
                            f"not {md5}): it is truncated, damaged or a different file, and it "
                            f"will not be used.",
                            "replace it with the official file (or delete it so torchvision "
                            "downloads it again), then rebuild.")


def read_split(root: str | Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The raw split via torchvision (downloading absent files); DataError when offline."""
    verify_checksums(root)
    try:
        dataset = KMNIST(str(root), train=train, download=True)
    except (RuntimeError, OSError) as error:
        raise missing_error(root) from error
    return dataset.data, dataset.targets  # (N, 28, 28) uint8, (N,) int64


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


def load_split(root: str | Path, train: bool, per_class: int = 0) -> Split:
    """Read one split once, keep a stratified subset if asked, scale to [-1, 1]."""
    images, labels = read_split(root, train)
    keep = stratified_indices(labels, per_class)
    return Split(scale(images[keep]), labels[keep].long())
