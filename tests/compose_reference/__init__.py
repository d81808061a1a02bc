"""The composer as it was at 5524a7a, before it was made cheaper: the reference drafts must equal.

Frozen copies of the functions that changed (the composer, the template
loader and its filters, the disclaimer, packet files and file stamps); the
parts that did not change (MIME and header writing, packet rendering) are
imported from bot. tests/test_compose_equivalence.py composes with both.
"""
