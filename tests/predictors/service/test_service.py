"""The predictor service as users run it: `litmol serve predictors` on loopback, real molecules, real load.

Two servers, each started once per module: `service` (batching window 0.2 s so concurrent requests
meet in one batch) and `busy_service` (a queue of one request, a 6 s deadline) that the client
reaches before it listens, to exercise its retries.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from litmol.predictors.api import predict, predict_inputs
from litmol.predictors.errors import UnknownPredictorError
from litmol.predictors.rows import PredictionRow
from litmol.predictors.service.client import PredictorClient
from litmol.settings import PredictorSettings
from tests.conftest import DATA
from tests.predictors.helpers import litmol

pytestmark = pytest.mark.integration

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def csv_smiles() -> list[str]:
    with (DATA / "molecules.csv").open() as fh:
        return [row["smiles"] for row in csv.DictReader(fh)]


def moses_smiles(n: int) -> list[str]:
    spec = importlib.util.find_spec("moses")
    if spec is None:
        pytest.skip("molsets (MOSES molecules) not installed")
    import pandas as pd

    path = Path(spec.submodule_search_locations[0]) / "dataset" / "data" / "test.csv.gz"
    return pd.read_csv(path, nrows=n).SMILES.tolist()


def start_server(port: int, log: Path, *options: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "litmol.cli", "serve", "predictors", "--port", str(port), "--preload", "rdkit",
           *options]
    env = dict(os.environ)
    env.pop("LITMOL_PREDICTOR_URL", None)
    return subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env, start_new_session=True)


def stop_server(proc: subprocess.Popen, graceful: bool = True) -> None:
    if graceful:
        proc.send_signal(signal.SIGTERM)  # LitServe stops its API servers and workers
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):  # nothing of this server's process group outlives it
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def wait_ready(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"server not ready after {timeout} s: {log.read_text()[-2000:]}")


@contextlib.contextmanager
def running_server(folder: Path, *options: str):
    """A real `litmol serve predictors` on a free loopback port, ready; stopped (cleanly, with no
    traceback in its log) when the block ends."""
    port = free_port()
    log = folder / "server.log"
    proc = start_server(port, log, *options)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc, log)
        yield SimpleNamespace(url=url, log=log)
    finally:
        stop_server(proc)
    assert proc.returncode == 0 and "Traceback" not in log.read_text(), log.read_text()[-3000:]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("service"), "--batch-timeout", "0.2", "--max-batch-size", "8",
                        "--max-payload-mb", "1") as running:
        yield running


@pytest.fixture(scope="module")
def busy_service(tmp_path_factory):
    """A server that accepts one request at a time; the client calls it before it listens."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("busy") / "server.log"
    client = PredictorClient(url, retries=12, backoff=0.25)
    assert not client.health()  # nothing listens yet
    proc = start_server(port, log, "--device", "cpu", "--max-queue", "1", "--max-batch-size", "1",
                        "--request-timeout", "6")
    try:
        first = client.predict(["CCO"])  # refused until the server is up: retried
        yield SimpleNamespace(url=url, log=log, first=first, retried=client.retried)
    finally:
        client.close()
        stop_server(proc, graceful=False)  # its worker may still be busy with the 504 request


def post(url: str, body: dict | bytes, **kwargs) -> httpx.Response:
    if isinstance(body, bytes):
        return httpx.post(f"{url}/predict", content=body, headers={"content-type": "application/json"},
                          timeout=60, **kwargs)
    return httpx.post(f"{url}/predict", json=body, timeout=60, **kwargs)


def stats(url: str) -> dict[str, int]:
    return httpx.get(f"{url}/stats", timeout=5).json()


# -- the main server ----------------------------------------------------------------------------
def test_predict_over_http_keeps_bad_rows_and_the_contract(service):
    from litmol.predictors.service.schemas import PredictResponse

    inputs = [ASPIRIN, "C1CC", "aspirin"]
    response = post(service.url, {"inputs": inputs})
    assert response.status_code == 200, response.text
    body = response.json()
    PredictResponse.model_validate(body)  # the documented schema is what the service sends
    rows = body["results"]
    assert [r["input"] for r in rows] == inputs
    assert rows[0]["valid"] and rows[0]["properties"]["mw"] == pytest.approx(180.16, abs=0.01)
    assert not rows[1]["valid"] and "cannot parse" in rows[1]["error"] and rows[1]["properties"] == {}
    assert rows[2]["smiles"] == ASPIRIN and rows[2]["name"] == "Acetylsalicylic acid"
    assert rows == [row.to_dict() for row in predict_inputs(inputs)]  # identical to in-process, row for row
    assert [PredictionRow.from_dict(row) for row in rows] == predict_inputs(inputs)


def test_concurrent_requests_are_batched_and_split_back(service):
    smiles = [s for s in csv_smiles() if s][:12]
    jobs = [{"inputs": smiles[i:i + 3]} for i in range(0, 12, 3)]
    jobs += [{"inputs": smiles[:2], "properties": ["mw"], "predictors": ["rdkit"], "alerts": False},
             {"inputs": ["C1CC", ASPIRIN]}, {"inputs": [ASPIRIN], "predictors": ["rdkit"], "properties": ["colour"]}]
    before = stats(service.url)
    barrier = threading.Barrier(len(jobs))
    answers: list[httpx.Response | None] = [None] * len(jobs)

    def send(i: int) -> None:
        barrier.wait()
        answers[i] = post(service.url, jobs[i])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    after = stats(service.url)
    assert [a.status_code for a in answers] == [200] * (len(jobs) - 1) + [400], [a.text for a in answers]
    assert "unknown properties: 'colour'" in answers[-1].json()["error"]  # only this request failed
    bodies = [a.json() for a in answers[:-1]]
    for job, body in zip(jobs, bodies, strict=False):  # each request gets its own rows back, in order
        assert [r["input"] for r in body["results"]] == job["inputs"]
    assert set(bodies[4]["results"][0]["properties"]) == {"mw"} and bodies[4]["results"][0]["alerts"] == []
    assert bodies[0]["results"][0]["alerts"]  # aspirin has alerts when asked
    assert not bodies[5]["results"][0]["valid"] and bodies[5]["results"][1]["valid"]
    assert max(b["batch"]["requests"] for b in bodies) > 1
    assert after["requests"] - before["requests"] == len(jobs)
    assert after["batches"] - before["batches"] < len(jobs)
    assert after["max_batch_requests"] > 1


@pytest.mark.parametrize("body, status, kind, message", [
    ({"inputs": ["CCO"], "properties": ["mw", "colour"], "predictors": ["rdkit"]}, 400, "unknown_name",
     "unknown properties: 'colour'"),
    ({"inputs": ["CCO"], "predictors": ["nope"]}, 400, "unknown_name", "no predictor named 'nope'"),
    ({"inputs": ["CCO"] * 1001}, 413, "too_many_inputs", "1,001 inputs; at most 1,000"),
    ({"inputs": ["C" * 1500] * 1000}, 413, "payload_too_large", "Payload too large"),  # 1.5 MB > 1 MB
    ({"inputs": []}, 422, "invalid_request", "at least 1 item"),
    ({"inputs": ["CCO"], "colour": "red"}, 422, "invalid_request", "colour: Extra inputs"),
    (b'{"inputs": ["CCO"', 422, "invalid_request", "invalid JSON"),
])
def test_bad_requests_get_one_line_json_errors(service, body, status, kind, message):
    response = post(service.url, body)
    assert response.status_code == status, response.text
    error = response.json()
    assert error["type"] == kind and message in error["error"] and "\n" not in error["error"]


def test_openapi_info_and_health_describe_the_service(service):
    schema = httpx.get(f"{service.url}/openapi.json").json()
    predict = schema["paths"]["/predict"]["post"]
    assert predict["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/PredictRequest")
    assert {"200", "400", "413", "503", "504"} <= set(predict["responses"])
    request = schema["components"]["schemas"]["PredictRequest"]
    assert request["properties"]["inputs"]["maxItems"] == 1000 and request["additionalProperties"] is False
    assert all(field.get("description") for field in request["properties"].values())
    info = httpx.get(f"{service.url}/info").json()["model"]
    import torch

    assert info["device"] == ("cuda" if torch.cuda.is_available() else "cpu")  # --device auto
    assert {"rdkit", "admet"} <= set(info["predictors"]) and info["max_request_inputs"] == 1000
    assert httpx.get(f"{service.url}/health").text == "ok"


def test_client_chunks_and_matches_in_process(service):
    inputs = csv_smiles() + ["aspirin", "not a molecule at all", "zorblaxitol"]
    client = PredictorClient(service.url, chunk_size=4, concurrency=3)
    before = stats(service.url)
    rows = client.predict(inputs)
    assert stats(service.url)["requests"] - before["requests"] == -(-len(inputs) // 4)
    local = predict_inputs(inputs)
    assert rows == local  # PredictionRows equal field for field, alerts and suggestions included
    assert rows[-1].suggestions and not rows[-1].valid and rows[-3].name == "Acetylsalicylic acid"
    assert any(r.alerts for r in rows)
    assert predict(inputs[:6], settings=PredictorSettings(url=service.url)) == local[:6]  # the settings' URL
    rows = client.predict(["CCO"], properties=["mw"], predictors=["rdkit"], alerts=False)
    assert rows[0].properties == {"mw": 46.07} and rows[0].alerts == []
    with pytest.raises(UnknownPredictorError, match="unknown properties: 'colour'"):
        client.predict(["CCO"], properties=["colour"], predictors=["rdkit"])
    assert client.predict([]) == []


def test_litmol_predict_goes_through_the_service_when_the_url_is_set(service):
    args = ("predict", "aspirin", "C1CC", "CCO", "--json")
    before = stats(service.url)
    remote = litmol(*args, url=service.url)
    assert remote.returncode == 0, remote.stderr
    assert stats(service.url)["requests"] == before["requests"] + 1  # it really went over HTTP
    local = litmol(*args)
    assert local.returncode == 0, local.stderr
    assert json.loads(remote.stdout) == json.loads(local.stdout)

    bad = litmol("predict", "CCO", "--predictors", "rdkit", "--properties", "mw,colour", url=service.url)
    assert bad.returncode == 2 and "unknown properties: 'colour'" in bad.stderr and "Traceback" not in bad.stderr
    dead = litmol("predict", "CCO", "--json", url=f"http://127.0.0.1:{free_port()}", LITMOL_PREDICTOR_RETRIES="0")
    assert dead.returncode == 1 and "unavailable" in dead.stderr and len(dead.stderr.strip().splitlines()) == 1


# -- the busy server ----------------------------------------------------------------------------
def test_client_retries_until_the_service_is_up(busy_service):
    assert busy_service.retried >= 1
    assert busy_service.first[0].smiles == "CCO" and busy_service.first[0].valid


def test_full_queue_answers_503_with_retry_after(busy_service):
    heavy = moses_smiles(30)  # ~1 s of descriptors + alerts on 2 cores: the others arrive meanwhile
    before = stats(busy_service.url)
    barrier = threading.Barrier(5)
    answers: list[httpx.Response | None] = [None] * 5

    def send(i: int) -> None:
        barrier.wait()
        answers[i] = post(busy_service.url, {"inputs": heavy})

    threads = [threading.Thread(target=send, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    codes = sorted(a.status_code for a in answers if a is not None)
    assert 200 in codes and 503 in codes and set(codes) <= {200, 503}, codes
    busy = next(a for a in answers if a is not None and a.status_code == 503)
    assert busy.json()["type"] == "busy" and busy.headers["retry-after"] == "1"
    assert stats(busy_service.url)["rejected_busy"] - before["rejected_busy"] == codes.count(503)


def test_clients_ride_out_a_busy_service(busy_service):
    molecules = moses_smiles(30)
    clients = [PredictorClient(busy_service.url, retries=20, backoff=0.2) for _ in range(3)]
    results: list[list[PredictionRow] | None] = [None] * 3
    barrier = threading.Barrier(3)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = clients[i].predict(molecules[i * 10:(i + 1) * 10], alerts=False)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for i, rows in enumerate(results):
        assert rows is not None and [r.input for r in rows] == molecules[i * 10:(i + 1) * 10]
    assert sum(c.retried for c in clients) >= 1  # some met a 503 and came back


def test_slow_request_gets_504(busy_service):
    # every rule set (about 30 ms a molecule): 30 s or more of work against a 6 s deadline on
    # any machine; descriptors alone finish 1,000 molecules in about 5 s on a fast one
    response = post(busy_service.url, {"inputs": moses_smiles(1000), "alerts": "all"})
    assert response.status_code == 504, response.text[:300]
    assert response.json()["type"] == "timeout"
    assert stats(busy_service.url)["timed_out"] >= 1


def test_design_scores_through_the_service_and_proposes_the_same_shortlist(service):
    """The design loop with LITMOL_PREDICTOR_URL set: every generation goes to the service as one batch, and
    the shortlist equals the in-process one (same seed, same predictions)."""
    from litmol.predictors.design import DesignConfig, propose

    config = DesignConfig(n=4, budget=120, min_similarity=0.3, random_seed=2)
    before = stats(service.url)
    remote = propose(["aspirin"], ["qed>=0.5", "sa<=3.5"], config, settings=PredictorSettings(url=service.url))
    after = stats(service.url)
    local = propose(["aspirin"], ["qed>=0.5", "sa<=3.5"], config)
    assert remote.candidates and remote.calls == local.calls
    assert [c.to_dict() for c in remote.candidates] == [c.to_dict() for c in local.candidates]
    assert after["molecules"] - before["molecules"] >= remote.calls
