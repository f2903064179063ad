"""Reversibility: the full export of an instance in open formats, and its re-import."""
