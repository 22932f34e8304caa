"""The science: one package per report section, registered by name for ``build.py``.

Each package follows the engine's section contract, ``report.section.Section``: a torch-free
``__init__`` with ``Config``, ``TITLE``, ``QUICK``, ``run(config, ctx)``, ``invariants(data)``
and, where the section reads data files, ``input_files(config)``. ``run`` imports torch
lazily and resolves ``ctx.device`` with ``experiments.common.pick_device``.
"""

SECTIONS = {  # in report order
    "kmnist": "experiments.kmnist",
    "toy_mlp": "experiments.toy_mlp",
    "dynamics": "experiments.dynamics",
}
