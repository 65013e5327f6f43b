"""Learned predictors: molecules -> features -> trained ensembles; admet-ai's endpoints.

    datasets.py        training tables (packaged or CSV), standardized, scaffold split
    features.py        Morgan counts + scaled RDKit descriptors; applicability-domain fingerprints
    models.py          EnsembleModel: MLP ensemble with uncertainty and applicability domain
    metrics.py         MAE/RMSE, ROC-AUC, calibration, error by domain
    train.py           `litmol predictors train`: table -> model directory with its card
    trained_models.py  model directories as registered predictors
    admet.py           admet-ai's 41 ADMET endpoints as the `admet` predictor
"""
