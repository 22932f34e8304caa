"""The science: one package per report section, registered by name.

Each section package follows one contract, so the engine (``report``) can cache,
run and render it without knowing anything about neural networks:

``experiments/<name>/__init__.py`` (imports no torch, so a cached build stays fast)
    ``Config``            frozen dataclass: the report's settings as defaults, a comment
                          per field saying why; ``__post_init__`` raises ``ValueError`` with
                          a one-line reason for an out-of-range value; has ``seed: int``.
                          Fields whose ``metadata`` has ``{"fingerprint": False}`` (a data
                          folder, say) do not invalidate cached results.
    ``TITLE``             the section's heading, also used by its placeholder.
    ``QUICK``             dict of field overrides for ``--profile quick`` (seconds, for tests).
    ``run(config, ctx)``  computes and returns plain JSON data (numbers unformatted,
                          accuracies as fractions). Imports torch lazily.
    ``invariants(data)``  list of human-readable violations of what must hold in ``data``
                          (numpy only); the engine checks it on every build and ``--check``.
    ``input_files(config)`` optional: ``{name: Path}`` of input data, checksummed into the
                          fingerprint.

``ctx`` (``report.runner.Context``) gives ``artifact_dir``, ``save_figure(fig, name) -> str``,
``progress(iterable=None, total=None, desc=...)`` (a tqdm bar), ``log`` (a logger) and
``device`` ("auto", "cpu" or "cuda"; resolve it with ``experiments.common.pick_device``).
"""

SECTIONS = {  # in report order
    "kmnist": "experiments.kmnist",
    "toy_mlp": "experiments.toy_mlp",
    "dynamics": "experiments.dynamics",
}
