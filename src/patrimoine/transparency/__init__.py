"""Transparency: the public algorithms register (CRPA L311-3-1, L312-1-3, R311-3-1-1/2) and the
requests for the rules of an individual algorithmic decision."""
