"""The report engine: stores results, renders them, checks the document against them.

It knows nothing about neural networks and imports no torch; see ``experiments`` for the science.
"""
