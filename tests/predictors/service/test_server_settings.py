"""The service's settings: one ServiceSettings (litmol.settings), bad values refused in one clear line."""

from __future__ import annotations

import pytest

from litmol.predictors.service.server import ServiceConfigError, service_settings
from litmol.settings import ServiceSettings


def test_explicit_values_win_and_bad_ones_name_the_setting(monkeypatch):
    monkeypatch.setenv("LITMOL_SERVICE_MAX_QUEUE", "7")
    settings = service_settings(port=8123, preload=["rdkit"])
    assert isinstance(settings, ServiceSettings)
    assert (settings.port, settings.max_queue, settings.preload) == (8123, 7, ["rdkit"])
    with pytest.raises(ServiceConfigError, match=r"^port: Input should be greater than or equal to 1024$"):
        service_settings(port=80)
    with pytest.raises(ServiceConfigError, match="batch_timeout must be shorter than request_timeout"):
        service_settings(batch_timeout=2, request_timeout=1)
    monkeypatch.setenv("LITMOL_SERVICE_DEVICE", "tpu")  # from the environment: named the same way
    with pytest.raises(ServiceConfigError, match="^device: Input should be 'auto', 'cpu' or 'cuda'$"):
        service_settings()
