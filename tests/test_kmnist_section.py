"""Part 1: model sizes, invariants, the offline error, and a quick run on the real data."""
from pathlib import Path

import pytest
import torch

from experiments import kmnist
from experiments.kmnist.data import DatasetError, read_split
from experiments.kmnist.models import build_model, count_parameters
from report.context import Context

DATA = Path(kmnist.Config().data_dir)
HAVE_DATA = all((DATA / "KMNIST" / "raw" / name).exists() for name in kmnist.RAW_FILES)


@pytest.mark.parametrize("key,params", [("lin", 7_850), ("full", 238_510), ("conv", 857_738)])
def test_parameter_counts_and_output_shapes(key, params):
    model = build_model(key, 300)
    assert count_parameters(model) == params
    out = model(torch.zeros(4, 1, 28, 28))
    assert out.shape == (4, 10) and torch.allclose(out.exp().sum(1), torch.ones(4), atol=1e-5)


def test_missing_data_offline_names_the_four_files_and_the_folder(tmp_path, monkeypatch):
    monkeypatch.setattr("torchvision.datasets.utils.urllib.request.urlopen",
                        lambda *a, **k: (_ for _ in ()).throw(OSError("offline")), raising=False)
    with pytest.raises(DatasetError) as error:
        read_split(tmp_path, train=False)
    message = str(error.value)
    assert all(name in message for name in kmnist.RAW_FILES)
    assert str(tmp_path / "KMNIST" / "raw") in message and error.value.user_error


@pytest.mark.skipif(not HAVE_DATA, reason=f"the KMNIST files are not in {DATA}/KMNIST/raw (.ci/run puts them there)")
def test_quick_run_on_the_real_data_keeps_its_invariants(tmp_path):
    config = kmnist.Config(**kmnist.QUICK)
    data = kmnist.run(config, Context(tmp_path, show_progress=False))
    assert kmnist.invariants(data) == []
    for m in data["models"].values():
        assert sum(map(sum, m["confusion"])) == data["test_size"] == 10 * config.test_per_class
    tampered = {**data, "models": {k: dict(m) for k, m in data["models"].items()}}
    tampered["models"]["lin"]["accuracy"] += 0.1
    assert kmnist.invariants(tampered)
    assert (tmp_path / data["figures"]["samples"]).exists()
