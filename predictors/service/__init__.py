"""The predictor service and its client: `litmol serve predictors` puts `predict_inputs` behind HTTP.

    schemas.py   the HTTP bodies (PredictRequest, PredictResponse, error answers)
    runtime.py   shared counters, the batch collector, admission control and cancellation
    litapi.py    the LitAPI: batched, chunked, cancellable `predict_inputs`
    server.py    build_server / serve (ServiceSettings), error handlers
    client.py    PredictorClient: the same PredictionRows over HTTP, with retries

Nothing is imported here: the client must not pull in LitServe.
"""
