"""The recommender core: pure numpy recipes (``recipes``), their base (``base``), and the artifact they ship in
(``artifact``).

Import from the submodules: a function that serves one recipe's artifact loads neither the others' training
code nor the text indexes it does not use (see docs/cold-start.md).
"""
