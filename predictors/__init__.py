"""Molecular property predictors (molecule parsing, descriptors, ADMET, trained models, service).

Filled in by the predictors issue; empty for now so the package layout matches the design.
"""
