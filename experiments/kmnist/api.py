"""What another section may use of kmnist: its data loader, its models, its training loop.

A section that studies NetFull's hidden width, say, imports the torch-free parts in its
``__init__`` and this module only in the code its ``run`` imports:

    >>> from experiments.kmnist import default_data_dir, input_files   # its Config and inputs
    >>> from experiments.kmnist.api import NetFull, Settings, fit, load_split, prepare_model
    >>> train = load_split(config.data_dir, train=True, per_class=100, section="width")
    >>> history, final = fit(prepare_model(NetFull(64), device), "H = 64", train, test,
    ...                      Settings.from_config(config), generator, section="width")

``section`` is the name the reusing section is registered under: a missing data file or a
diverging loss is told as that section's ("width: KMNIST data not found ... --set
width.data_dir=..."). A section that imports only this surface depends, in its fingerprint,
on the data, model and training modules, not on kmnist's figures or the rest of its ``run``.
"""
from .data import Split, load_split
from .metrics import confusion_matrix, most_confused
from .models import NAMES, NetConv, NetFull, NetLin, build_model, count_parameters, describe, parameter_layers
from .train import Evaluation, History, Settings, evaluate, fit, prepare_model

__all__ = ["Split", "load_split", "NetLin", "NetFull", "NetConv", "NAMES", "build_model", "count_parameters",
           "describe", "parameter_layers", "Settings", "History", "Evaluation", "fit", "evaluate",
           "prepare_model", "confusion_matrix", "most_confused"]
