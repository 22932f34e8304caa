"""The kmnist section end to end: load once, train each model, measure, draw, return data."""
import time

import numpy as np
import torch

from experiments.common import pick_device, seed_everything
from report.errors import ConfigError

from . import CLASS_NAMES, HIRAGANA, figures
from .data import load_split
from .metrics import confusion_matrix, most_confused
from .models import NAMES, build_model, count_parameters, describe, parameter_layers
from .precision import unsupported
from .train import Settings, cpu_threads, fastest_threads, fit, prepare_model


def run_section(config, ctx) -> dict:
    """Train and evaluate ``config.models`` on KMNIST; plain JSON data, figures via ``ctx``."""
    device = pick_device(ctx.device)
    problem = unsupported(config.precision, device.type)  # the config checked the auto device
    if problem:
        raise ConfigError(f"kmnist: {problem}",
                          f"build with --set kmnist.precision=fp32, or pick a device that runs "
                          f"{config.precision} with --device")
    figures.require_hiragana_font()  # before training: the figures are part of the result
    train = load_split(config.data_dir, train=True, per_class=config.train_per_class)
    test = load_split(config.data_dir, train=False, per_class=config.test_per_class)
    ctx.log.info("kmnist: %d training, %d test images on %s in %s", len(train), len(test), device,
                 config.precision)
    on_device = (train.to(device), test.to(device))
    models = {key: run_model(key, config, *on_device, device, ctx) for key in config.models}
    return {
        "classes": list(CLASS_NAMES),
        "hiragana": list(HIRAGANA),
        "device": str(device),
        "train_size": len(train),
        "test_size": len(test),
        "train_class_counts": class_counts(train.labels),
        "test_class_counts": class_counts(test.labels),
        "models": models,
        "confused_pairs_all": most_confused(summed_confusion(models)),
        "figures": draw_figures(models, train, ctx),
    }


def run_model(key: str, config, train, test, device, ctx) -> dict:
    """Train one model from the config's seed; its numbers, formula and description."""
    generator = seed_everything(config.seed)  # same initial weights whatever the model order
    model = prepare_model(build_model(key, config.hidden), device)
    settings = Settings.from_config(config)
    start = time.perf_counter()  # the thread probe is part of the training cost
    threads = config.threads or fastest_threads(model, train.images, train.labels, settings)
    with cpu_threads(threads):
        history, final = fit(model, NAMES[key], train, test, settings, generator, ctx.progress)
    seconds = time.perf_counter() - start
    ctx.log.info("kmnist: %s %.4f test accuracy in %.1f s, threads=%d", NAMES[key],
                 final.accuracy, seconds, threads)
    confusion = confusion_matrix(test.labels.cpu().numpy(), final.predictions.numpy())
    return {
        "name": NAMES[key],
        "accuracy": final.accuracy,
        "test_loss": final.loss,
        "history": vars(history),
        "confusion": confusion.tolist(),
        "class_counts": class_counts(test.labels),
        "test_size": len(test),
        **describe_model(model),
        "train_seconds": seconds,
        "threads": threads,  # the last bits of the numbers depend on it
        "confused_pairs": most_confused(confusion),
    }


def describe_model(model) -> dict:
    return {"params": count_parameters(model), "param_layers": parameter_layers(model),
            "architecture": describe(model)}


def class_counts(labels: torch.Tensor) -> list[int]:
    return np.bincount(labels.cpu().numpy(), minlength=len(CLASS_NAMES)).tolist()


def summed_confusion(models: dict) -> np.ndarray:
    """All models' confusion matrices added: the pairs hard for every model stand out."""
    return sum(np.asarray(m["confusion"]) for m in models.values())


def draw_figures(models: dict, train, ctx) -> dict[str, str]:
    """Figure name -> file name in the artifact folder."""
    saved = {"learning_curves": ctx.save_figure(figures.learning_curves(models),
                                                "learning_curves")}
    for key, m in models.items():
        fig = figures.confusion_heatmap(m["confusion"], f"{m['name']}: confusion matrix")
        saved[f"confusion_{key}"] = ctx.save_figure(fig, f"confusion_{key}")
    grid = figures.sample_grid(train.images.numpy(), train.labels.numpy())
    saved["samples"] = ctx.save_figure(grid, "samples")
    return saved
