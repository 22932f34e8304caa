"""The report engine: plans, runs and stores experiments, renders them, checks the document.

It knows nothing about neural networks and imports no torch. A project describes itself
once (``report.project.Project``: its sections, templates, libraries, fonts) and hands that
to ``report.cli.main``; each section follows ``report.section.Section``.
"""
