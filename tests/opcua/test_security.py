"""Sign&Encrypt with certificates and a user login; refusals say what to fix."""

from __future__ import annotations

import asyncio

import pytest
from opcua_world import PUMPS

from conftest import CLIENT_URI
from prognos.errors import AccessDenied, ConfigError
from prognos.ingest.opcua_mapping import Mapping
from prognos.service.workers.opcua import OpcUaIngest

pytestmark = pytest.mark.integration


def secure_mapping(server, pki, **login) -> Mapping:
    cert, key = pki
    return Mapping.from_dict(
        {
            "endpoint": server.endpoint,
            "security": {
                "policy": "Basic256Sha256",
                "mode": "SignAndEncrypt",
                "certificate": str(cert),
                "private_key": str(key),
                "server_certificate": str(server.cert_folder / "server-cert.der"),
                "application_uri": CLIENT_URI,
            },
            "items": PUMPS[:2],
            **login,
        },
        env={},
    )


async def test_sign_and_encrypt_with_a_user_login_delivers(secure_server, client_pki, seeded):
    mapping = secure_mapping(secure_server, client_pki, user="operator", password="op-pass")
    worker = OpcUaIngest(seeded, mapping, flush_interval=0.1)
    task = asyncio.create_task(worker.run())
    await worker.wait_ready(20)
    await asyncio.sleep(1.0)
    await worker.stop()
    await task
    s = worker.status()
    assert s["accepted"] >= 10 and s["rejected"] == 0
    assert seeded.store.count_readings() == s["accepted"]


async def test_a_wrong_password_is_a_clear_error(secure_server, client_pki, seeded):
    mapping = secure_mapping(secure_server, client_pki, user="operator", password="wrong")
    worker = OpcUaIngest(seeded, mapping)
    with pytest.raises(AccessDenied) as e:
        await worker.run()
    assert str(e.value.message) == (
        f"the OPC UA server at {secure_server.endpoint} refused user 'operator' (BadUserAccessDenied)"
    )
    assert "PROGNOS_OPCUA_PASSWORD" in e.value.hint
    assert worker.status()["state"] == "failed"


async def test_no_login_on_a_server_that_wants_one_says_so(secure_server, client_pki, seeded):
    worker = OpcUaIngest(seeded, secure_mapping(secure_server, client_pki))
    with pytest.raises(AccessDenied, match="refused an anonymous login") as e:
        await worker.run()
    assert "set 'user' in the mapping" in e.value.hint


async def test_no_security_against_a_secure_only_server_says_so(secure_server, seeded):
    mapping = Mapping.from_dict(
        {"endpoint": secure_server.endpoint, "items": PUMPS[:1], "user": "operator"},
        env={"PROGNOS_OPCUA_PASSWORD": "op-pass"},
    )
    with pytest.raises(ConfigError, match="offers no endpoint with no security"):
        await OpcUaIngest(seeded, mapping).run()
