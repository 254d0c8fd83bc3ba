"""The composition root: each module builds one domain's services on the concrete stores, once per container.

A function imports only its own domain's module here, so it loads no other domain's code (tested by
tests/unit/test_import_isolation.py; why it matters: docs/cold-start.md).
"""
