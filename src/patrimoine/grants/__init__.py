"""Grants on restricted datasets: who may read them, why, until when, which rows and columns."""
