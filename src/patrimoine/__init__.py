"""Patrimoine: govern and open the data of a French local authority."""

__version__ = "0.1.0"
