"""The kmnist section: models, loader, confusion invariants, offline error, a quick real run."""
import copy
import dataclasses
import gzip
import hashlib
import json
import math
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch

from experiments import kmnist
from experiments.kmnist import HIRAGANA, QUICK, RAW_FILES, Config, figures, input_files, invariants
from experiments.common import TrainingDiverged
from experiments.kmnist.data import Split, load_split, stratified_indices
from experiments.kmnist.metrics import confusion_matrix, most_confused
from experiments.kmnist.models import build_model, count_parameters, describe, parameter_layers
from experiments.kmnist import precision
from experiments.kmnist.train import (Settings, cpu_threads, fastest_threads, fit, prepare_model,
                                      thread_candidates, train_one_epoch)
from report.context import Context
from report.errors import ConfigError, DataError, RendererError

REPO = Path(__file__).resolve().parents[1]


# --- models ---------------------------------------------------------------------------------

@pytest.mark.parametrize("key, params", [("lin", 7_850), ("full", 238_510), ("conv", 857_738)])
def test_parameter_count_and_layer_shapes_agree_with_the_course(key, params):
    model = build_model(key, hidden=300)
    assert count_parameters(model) == params
    layers = parameter_layers(model)
    assert sum(math.prod(layer["factors"]) + layer["addend"] for layer in layers) == params


@pytest.mark.parametrize("key", ["lin", "full", "conv"])
def test_models_map_a_batch_to_log_probabilities(key):
    out = build_model(key, hidden=300)(torch.randn(5, 1, 28, 28))
    assert out.shape == (5, 10)
    assert torch.allclose(out.exp().sum(dim=1), torch.ones(5))


def test_netfull_width_and_description_follow_the_config():
    model = build_model("full", hidden=50)
    assert count_parameters(model) == 784 * 50 + 50 + 50 * 10 + 10
    assert describe(model) == ["linear 784 -> 50", "tanh", "linear 50 -> 10", "log-softmax"]
    assert [(l["factors"], l["addend"]) for l in parameter_layers(model)] == [
        ([784, 50], 50), ([50, 10], 10)]


def test_conv_layer_factors_read_in_channels_out_channels_then_kernel():
    assert parameter_layers(build_model("conv", hidden=300))[0]["factors"] == [1, 32, 5, 5]


def test_netconv_is_described_in_the_order_of_the_course():
    assert describe(build_model("conv", hidden=300)) == [
        "conv 1 -> 32, 5x5, padding 2", "ReLU", "max-pool 2x2",
        "conv 32 -> 64, 5x5, padding 2", "ReLU", "max-pool 2x2",
        "linear 3136 -> 256", "ReLU", "linear 256 -> 10", "log-softmax"]


def test_pooling_before_relu_computes_relu_then_pooling():
    x = torch.randn(4, 3, 8, 8)
    block = build_model("conv", hidden=300).layers[1]
    reference = torch.nn.functional.max_pool2d(torch.relu(x), 2)
    assert torch.equal(block(x), reference)


def test_conv_net_is_prepared_channels_last():
    model = prepare_model(build_model("conv", hidden=300), torch.device("cpu"))
    assert model.layers[2].weight.is_contiguous(memory_format=torch.channels_last)


# --- config ---------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [{"lr": 0.0}, {"epochs": 0}, {"optimizer": "rmsprop"},
                                 {"models": ("mlp",)}, {"batch_size": 0}, {"momentum": 1.0},
                                 {"train_per_class": -1}, {"models": ()},
                                 {"precision": "int8"}, {"precision": "FP32"}, {"threads": -1}])
def test_config_rejects_bad_values_with_a_one_line_reason(bad):
    with pytest.raises(ValueError) as error:
        Config(**bad)
    assert "\n" not in str(error.value) and str(error.value).startswith("kmnist config:")


def test_data_dir_comes_from_kmnist_root_and_does_not_enter_the_fingerprint(monkeypatch):
    monkeypatch.setenv("KMNIST_ROOT", "/somewhere")
    assert Config().data_dir == "/somewhere"
    field = {f.name: f for f in dataclasses.fields(Config)}["data_dir"]
    assert field.metadata["fingerprint"] is False


def test_precision_enters_the_fingerprint():
    field = {f.name: f for f in dataclasses.fields(Config)}["precision"]
    assert field.metadata.get("fingerprint", True) and Config().precision == "fp32"


@pytest.fixture
def cpu_only(monkeypatch):
    """A machine without CUDA; the test says whether its CPU has bf16 instructions."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    return lambda has_bf16: monkeypatch.setattr(precision, "cpu_has_bf16", lambda: has_bf16)


def test_bf16_is_refused_on_a_cpu_without_bf16_instructions(cpu_only):
    cpu_only(False)
    with pytest.raises(ValueError, match=r"^kmnist config: precision bf16 .*use fp32$"):
        Config(precision="bf16")


def test_bf16_is_accepted_on_a_cpu_with_bf16_instructions(cpu_only):
    cpu_only(True)
    assert Config(precision="bf16").precision == "bf16"


def test_fp16_needs_a_cuda_gpu(cpu_only):
    cpu_only(True)
    with pytest.raises(ValueError, match="fp16 needs a CUDA GPU"):
        Config(precision="fp16")


def test_precision_is_checked_again_on_the_device_the_build_picked(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # the config sees a GPU...
    config = Config(precision="fp16", data_dir=str(tmp_path))
    monkeypatch.undo()
    with pytest.raises(ConfigError, match="fp16") as error:  # ...the build runs on the CPU
        kmnist.run(config, Context(tmp_path, device="cpu", show_progress=False))
    assert "kmnist.precision=fp32" in error.value.hint


def test_input_files_are_the_four_raw_files():
    files = input_files(Config(data_dir="root"))
    assert sorted(files) == sorted(RAW_FILES)
    assert all(path.parent == Path("root/KMNIST/raw") for path in files.values())


@pytest.mark.parametrize("section", ["kmnist", "toy_mlp", "dynamics"])
def test_importing_a_section_does_not_import_torch(section):
    code = f"import sys, experiments.{section}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "False"


# --- precision and threads -------------------------------------------------------------------

def linear_output_dtypes(key: str, precision_name: str) -> set:
    """The dtypes the model's linear layers compute in during one training pass."""
    model = prepare_model(build_model(key, hidden=300), torch.device("cpu"))
    seen = set()
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            m.register_forward_hook(lambda mod, inp, out: seen.add(out.dtype))
    images, labels = torch.randn(16, 1, 28, 28), torch.arange(16) % 10
    optimizer = torch.optim.Adam(model.parameters())
    train_one_epoch(model, optimizer, images, labels, 8, torch.arange(16),
                    precision=precision_name)
    assert all(p.dtype == torch.float32 for p in model.parameters())  # master weights stay fp32
    return seen


@pytest.mark.parametrize("key", ["full", "conv"])
def test_bf16_training_computes_products_in_bf16_and_fp32_does_not(key):
    assert linear_output_dtypes(key, "bf16") == {torch.bfloat16}
    assert linear_output_dtypes(key, "fp32") == {torch.float32}


@pytest.mark.parametrize("name, scaled", [("fp16", True), ("bf16", False), ("fp32", False)])
def test_only_fp16_scales_the_loss(name, scaled):
    assert precision.grad_scaler(torch.device("cpu"), name).is_enabled() == scaled


@pytest.mark.parametrize("most, expected", [(1, [1]), (2, [1, 2]), (6, [1, 2, 4, 6]),
                                            (16, [1, 2, 4, 8, 16])])
def test_thread_candidates_double_up_to_the_process_threads(monkeypatch, most, expected):
    monkeypatch.setattr(torch, "get_num_threads", lambda: most)
    assert thread_candidates() == expected


def test_thread_probe_picks_a_candidate_and_leaves_model_and_threads_alone():
    model = build_model("full", hidden=300)
    before = [p.detach().clone() for p in model.parameters()]
    threads = torch.get_num_threads()
    images, labels = torch.randn(64, 1, 28, 28), torch.arange(64) % 10
    with cpu_threads(2):  # two candidates even on a one-core runner
        assert fastest_threads(model, images, labels, Settings(batch_size=32)) in (1, 2)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert torch.get_num_threads() == threads


# --- loader ---------------------------------------------------------------------------------

def write_idx(path: Path, array: np.ndarray):
    """An IDX file (unsigned bytes), gzip-compressed, as CODH distributes them."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


@pytest.fixture
def offline(monkeypatch):
    """No network: any download attempt fails the way it does on an offline machine."""
    def refuse(*args, **kwargs):
        raise urllib.error.URLError("network disabled by the test")
    monkeypatch.setattr(urllib.request, "urlopen", refuse)


@pytest.fixture
def tiny_kmnist(tmp_path, monkeypatch, offline):
    """Four small IDX files in <tmp>/KMNIST/raw/, accepted by torchvision's own MD5 check."""
    raw = tmp_path / "KMNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    labels = {"train": np.arange(30) % 10, "t10k": np.arange(20) % 10}
    for split, y in labels.items():
        x = rng.integers(0, 256, size=(len(y), 28, 28))
        x[0, 0, :3] = [0, 255, 51]  # known pixels: -1, 1, -0.6 after scaling
        write_idx(raw / f"{split}-images-idx3-ubyte.gz", x)
        write_idx(raw / f"{split}-labels-idx1-ubyte.gz", y)
    md5 = [(name, hashlib.md5((raw / name).read_bytes()).hexdigest()) for name in RAW_FILES]
    monkeypatch.setattr("torchvision.datasets.KMNIST.resources", md5)
    return tmp_path, labels


def test_loader_reads_idx_files_into_scaled_tensors(tiny_kmnist):
    root, labels = tiny_kmnist
    train = load_split(root, train=True)
    assert train.images.shape == (30, 1, 28, 28) and train.images.dtype == torch.float32
    assert train.images.min() >= -1 and train.images.max() <= 1
    assert torch.allclose(train.images[0, 0, 0, :3], torch.tensor([-1.0, 1.0, -0.6]))
    assert train.labels.tolist() == labels["train"].tolist()
    assert len(load_split(root, train=False)) == 20


def test_loader_keeps_a_stratified_subset(tiny_kmnist):
    root, _ = tiny_kmnist
    subset = load_split(root, train=True, per_class=2)
    assert np.bincount(subset.labels.numpy()).tolist() == [2] * 10
    assert stratified_indices(torch.tensor([3, 1, 3, 1, 3]), per_class=2).tolist() == [0, 1, 2, 3]


def test_absent_files_offline_raise_one_paragraph_naming_the_files(tmp_path, offline):
    with pytest.raises(DataError) as error:
        load_split(tmp_path, train=True)
    message, hint = error.value.message, error.value.hint
    assert all(name in message for name in RAW_FILES)
    assert str(tmp_path / "KMNIST" / "raw") in message
    assert "KMNIST_ROOT" in hint and "kmnist.data_dir" in hint
    assert "\n" not in message + hint


def test_a_file_that_is_not_the_official_one_is_refused_with_a_hint(tiny_kmnist):
    root, _ = tiny_kmnist
    damaged = root / "KMNIST" / "raw" / "t10k-labels-idx1-ubyte.gz"
    damaged.write_bytes(damaged.read_bytes()[:-4])
    with pytest.raises(DataError, match="is not the official one") as error:
        load_split(root, train=False)  # the split that reads it
    assert str(damaged) in error.value.message and "replace it" in error.value.hint
    assert "github.com/rois-codh/kmnist" in error.value.hint and "KMNIST_ROOT" in error.value.hint


def test_an_unreadable_file_is_named_with_the_reason(tiny_kmnist, monkeypatch):
    root, _ = tiny_kmnist
    def refuse(path):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(DataError) as error:
        load_split(root, train=True)
    file = root / "KMNIST" / "raw" / "train-images-idx3-ubyte.gz"
    assert error.value.message == f"kmnist: cannot read the KMNIST file {file}: Permission denied"


def uncompressed_copies(raw: Path) -> dict[str, Path]:
    """Each .gz file extracted beside it, as torchvision leaves them: ``{.gz name: copy}``."""
    copies = {name: raw / name.removesuffix(".gz") for name in RAW_FILES}
    for name, extracted in copies.items():
        extracted.write_bytes(gzip.decompress((raw / name).read_bytes()))
    return copies


@pytest.mark.parametrize("name, damage", [
    ("t10k-labels-idx1-ubyte.gz", lambda content: content[:8] + bytes(len(content) - 8)),  # all 0
    ("t10k-images-idx3-ubyte.gz", lambda content: content[:-5]),  # truncated
], ids=["zeroed labels", "truncated images"])
def test_a_damaged_uncompressed_copy_is_named_and_never_read(tiny_kmnist, caplog, name, damage):
    root, labels = tiny_kmnist
    copy = uncompressed_copies(root / "KMNIST" / "raw")[name]
    copy.write_bytes(damage(copy.read_bytes()))
    test = load_split(root, train=False)
    assert test.labels.tolist() == labels["t10k"].tolist() and test.images.shape == (20, 1, 28, 28)
    (warning,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warning.startswith(f"kmnist: {copy} does not hold the content of the official {name}")
    assert "MD5" not in warning


def test_faithful_uncompressed_copies_pass_without_a_word(tiny_kmnist, caplog):
    root, _ = tiny_kmnist
    uncompressed_copies(root / "KMNIST" / "raw")
    load_split(root, train=True)
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_the_files_read_are_the_files_fingerprinted(tiny_kmnist, monkeypatch):
    root, _ = tiny_kmnist
    read, read_bytes = [], Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda path: read.append(path) or read_bytes(path))
    load_split(root, train=True), load_split(root, train=False)
    assert sorted(read) == sorted(input_files(Config(data_dir=str(root))).values())


# --- confusion matrices and invariants ------------------------------------------------------

def test_confusion_matrix_rows_are_truth_and_columns_predictions():
    truth, predicted = [0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2]
    cm = confusion_matrix(truth, predicted, n_classes=3)
    assert cm.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert cm.sum() == 6 and cm.sum(axis=1).tolist() == [2, 1, 3]
    assert np.trace(cm) / cm.sum() == pytest.approx(4 / 6)


def test_most_confused_lists_the_largest_off_diagonal_cells_with_names():
    cm = np.diag([50] * 10)
    cm[3, 5], cm[1, 6] = 9, 4
    pairs = most_confused(cm, k=3)
    assert [(p["truth"], p["predicted"], p["count"]) for p in pairs] == [(3, 5, 9), (1, 6, 4)]
    assert (pairs[0]["truth_name"], pairs[0]["predicted_hiragana"]) == ("tsu", "は")


def consistent_result() -> dict:
    """A model result whose numbers agree, built the way the section builds it."""
    rng = np.random.default_rng(1)
    truth = np.repeat(np.arange(10), 7)
    predicted = np.where(rng.random(70) < 0.8, truth, rng.integers(0, 10, 70))
    cm = confusion_matrix(truth, predicted)
    accuracy = int((truth == predicted).sum()) / 70
    layers = parameter_layers(build_model("lin", hidden=300))
    return {"models": {"lin": {
        "accuracy": accuracy, "test_loss": 0.5, "confusion": cm.tolist(),
        "class_counts": [7] * 10, "test_size": 70, "params": 7850, "param_layers": layers,
        "history": {"train_loss": [0.9, 0.6], "test_loss": [0.7, 0.5],
                    "test_accuracy": [0.5, accuracy]}}}}


def tampered(change) -> list[str]:
    data = copy.deepcopy(consistent_result())
    change(data["models"]["lin"])
    return invariants(data)


def test_invariants_hold_for_consistent_results():
    assert invariants(consistent_result()) == []


def test_invariants_report_a_tampered_confusion_matrix():
    def move_a_correct_image(m):  # keeps the total and the row sums, breaks the accuracy
        m["confusion"][0][0] -= 1
        m["confusion"][0][1] += 1
    problems = tampered(move_a_correct_image)
    assert len(problems) == 1 and "diagonal / total" in problems[0]
    assert "kmnist.models.lin" in problems[0]


@pytest.mark.parametrize("change, words", [
    (lambda m: m["confusion"][2].__setitem__(2, m["confusion"][2][2] + 1), "sums to"),
    (lambda m: m.__setitem__("class_counts", [6, 8] + [7] * 8), "row sums"),
    (lambda m: m.__setitem__("params", 7851), "layer shapes give 7850"),
    (lambda m: m["param_layers"][0]["factors"].__setitem__(0, 785), "layer shapes give 7860"),
    (lambda m: m["history"]["test_loss"].__setitem__(-1, 0.4), "history ends"),
    (lambda m: m.pop("confusion"), "malformed"),
])
def test_invariants_report_each_kind_of_inconsistency(change, words):
    assert any(words in problem for problem in tampered(change))


def test_a_nan_loss_names_the_model_epoch_and_settings():
    images = torch.full((8, 1, 28, 28), float("nan"))  # (8, 1, 28, 28)
    split = Split(images, torch.arange(8) % 10)
    with pytest.raises(TrainingDiverged, match=r"^kmnist: NetLin: the training loss became nan "
                                               r"at epoch 1 with .*lr=0.001(.|\n)*--set kmnist.lr="):
        fit(build_model("lin", 300), "NetLin", split, split, Settings(epochs=2),
            torch.Generator().manual_seed(0))


# --- the hiragana font -----------------------------------------------------------------------

def test_without_a_hiragana_font_the_section_stops_before_training(tmp_path, monkeypatch, offline):
    monkeypatch.setattr(figures, "FONT", "No Such Font Anywhere")
    config = Config(data_dir=str(tmp_path / "no-data-either"), **QUICK)  # reading it would fail
    with pytest.raises(RendererError, match="but matplotlib finds no font No Such Font Anywhere; "
                                            "the section stops before training") as error:
        kmnist.run(config, Context(tmp_path / "art", show_progress=False))
    assert error.value.hint.startswith("install the font with `pip install matplotlib-fontja`")
    assert not list((tmp_path / "art").iterdir())  # no figure drawn


def test_a_font_without_the_hiragana_is_named_with_what_it_lacks(monkeypatch):
    monkeypatch.setattr(figures, "FONT", "DejaVu Sans")
    problem = figures.hiragana_font_problem()
    assert problem.startswith("its font DejaVu Sans (") and problem.endswith(" ".join(HIRAGANA))


def test_the_installed_font_draws_every_hiragana():
    assert figures.hiragana_font_problem() is None


# --- the section on the real data ----------------------------------------------------------

def real_data_root() -> Path:
    root = Path(os.environ.get("KMNIST_ROOT", REPO / "data"))
    return root if root.is_absolute() else REPO / root


@pytest.fixture(scope="module")
def quick_result(tmp_path_factory):
    root = real_data_root()
    missing = [name for name in RAW_FILES if not (root / "KMNIST" / "raw" / name).is_file()]
    if missing:
        pytest.skip(f"real KMNIST absent: {', '.join(missing)} not in {root}/KMNIST/raw/ "
                    f"(copy the official files there from github.com/rois-codh/kmnist, or set KMNIST_ROOT)")
    ctx = Context(tmp_path_factory.mktemp("kmnist"), show_progress=False)
    config = Config(data_dir=str(root), **QUICK)
    return kmnist.run(config, ctx), ctx, config


def test_quick_run_on_real_data_is_consistent_plain_json(quick_result):
    data, ctx, _ = quick_result
    assert invariants(data) == []
    assert json.loads(json.dumps(data)) == data
    assert (data["train_size"], data["test_size"]) == (1000, 500)
    assert data["test_class_counts"] == [50] * 10
    assert [m["params"] for m in data["models"].values()] == [7850, 238510, 857738]
    assert all(len(m["history"]["test_accuracy"]) == 1 for m in data["models"].values())
    assert data["classes"][:2] == ["o", "ki"] and data["hiragana"][-1] == "を"


def test_quick_run_saves_every_figure_it_names(quick_result):
    data, ctx, _ = quick_result
    assert set(data["figures"]) == {"learning_curves", "confusion_lin", "confusion_full",
                                    "confusion_conv", "samples"}
    assert all((ctx.artifact_dir / name).stat().st_size > 0 for name in data["figures"].values())


def test_quick_run_records_the_thread_count_each_model_trained_with(quick_result):
    data, _, _ = quick_result
    assert all(m["threads"] in thread_candidates() for m in data["models"].values())


def test_a_thread_count_set_in_the_config_is_used_without_the_timing_probe(quick_result, tmp_path, monkeypatch):
    _, _, config = quick_result
    def no_probe(*args, **kwargs):
        raise AssertionError("the probe ran although kmnist.threads pins the count")
    monkeypatch.setattr("experiments.kmnist.section.fastest_threads", no_probe)
    data = kmnist.run(dataclasses.replace(config, models=("lin",), threads=2), Context(tmp_path, show_progress=False))
    assert data["models"]["lin"]["threads"] == 2


def test_quick_run_is_repeatable_from_the_seed(quick_result, tmp_path):
    _, _, config = quick_result
    lin = dataclasses.replace(config, models=("lin",))
    with cpu_threads(1):  # the last bits depend on the thread count, which the probe picks
        runs = [kmnist.run(lin, Context(tmp_path / str(i), show_progress=False))["models"]["lin"]
                for i in range(2)]
    first, second = runs
    assert (first["accuracy"], first["confusion"]) == (second["accuracy"], second["confusion"])
    assert first["threads"] == 1


# --- reuse by another section -----------------------------------------------------------------

def test_the_public_surface_gives_another_section_the_loader_models_and_loop():
    from experiments.kmnist import api, default_data_dir

    assert api.load_split is load_split and api.fit is fit and api.Settings is Settings
    assert isinstance(api.build_model("full", 16), api.NetFull) and set(api.__all__) <= set(dir(api))
    assert default_data_dir() == Config().data_dir


def test_data_errors_name_the_section_that_reads_the_data(tmp_path, offline):
    with pytest.raises(DataError) as error:
        load_split(tmp_path, train=True, section="width")
    assert error.value.message.startswith("width: KMNIST data not found")
    assert "--set width.data_dir=..." in error.value.hint and "kmnist." not in error.value.hint


def test_a_diverging_loss_is_told_as_the_reusing_section_s(tmp_path):
    split = Split(torch.full((8, 1, 28, 28), float("nan")), torch.arange(8) % 10)
    with pytest.raises(TrainingDiverged, match=r"^width: H = 16: the training loss became nan(.|\n)*"
                                               r"--set width.lr=.*\(width.optimizer\)"):
        fit(build_model("full", 16), "H = 16", split, split, Settings(epochs=1), torch.Generator().manual_seed(0),
            section="width")


def test_settings_come_from_whatever_a_config_holds_and_keep_the_defaults_for_the_rest():
    @dataclasses.dataclass(frozen=True)
    class WidthConfig:
        seed: int = 0
        lr: float = 0.01
        epochs: int = 2
        widths: tuple = (16, 64)

    assert Settings.from_config(WidthConfig()) == Settings(lr=0.01, epochs=2)
    assert Settings.from_config(Config(**QUICK)) == Settings(epochs=1)
