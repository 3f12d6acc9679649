"""MQTT over TLS against a real Mosquitto whose certificate a private CA signed, as on a plant
network: the worker verifies the broker, shows a client certificate when asked, and says so
clearly when it cannot trust the broker or read its own files."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from prognos import devservers
from prognos.errors import ConfigError
from prognos.ingest.mqtt import MqttWorker
from support import wait_until

pytestmark = pytest.mark.integration


def _write_key(key, path: Path) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def _certificate(subject: str, key, issuer_name, issuer_key, *, ca: bool, server: bool = False):
    now = dt.datetime.now(dt.UTC)
    b = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        b = b.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return b.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    """A private CA, a broker certificate for 127.0.0.1 and a client certificate, as PEM."""
    d = tmp_path_factory.mktemp("mqtt-pki")
    d.chmod(0o755)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "plant CA")])
    ca = _certificate("plant CA", ca_key, ca_name, ca_key, ca=True)
    out = {"ca": d / "ca.pem"}
    out["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for name, server in (("broker", True), ("client", False)):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _certificate(name, key, ca_name, ca_key, ca=False, server=server)
        out[name] = d / f"{name}.pem"
        out[name].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        out[f"{name}_key"] = _write_key(key, d / f"{name}.key")
        out[f"{name}_key"].chmod(0o644)
    return out


@pytest.fixture
def tls_broker(pki) -> Iterator[devservers.Mosquitto]:
    tls = devservers.MosquittoTls(pki["ca"], pki["broker"], pki["broker_key"], True)
    with devservers.mosquitto(tls=tls) as b:
        yield b


def publish_tls(port: int, pki, messages: list[tuple[str, bytes]]) -> None:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="tls-publisher")
    c.tls_set(ca_certs=str(pki["ca"]), certfile=str(pki["client"]), keyfile=str(pki["client_key"]))
    c.connect("127.0.0.1", port)
    c.loop_start()
    try:
        for info in [c.publish(t, p, qos=1) for t, p in messages]:
            info.wait_for_publish(30)
    finally:
        c.disconnect()
        c.loop_stop()


def test_the_worker_trusts_a_private_ca_and_shows_its_client_certificate(tls_broker, pki):
    assert tls_broker.url.startswith("mqtts://")
    got: list = []
    w = MqttWorker(
        tls_broker.url,
        got.extend,
        topic="t/+/+/x",
        group=None,
        client_id="tls-worker",
        ca_file=pki["ca"],
        cert_file=pki["client"],
        key_file=pki["client_key"],
    )
    w.start()
    try:
        assert w.wait_subscribed(10), w.status()
        publish_tls(tls_broker.port, pki, [("t/c/a/x", b"over tls"), ("t/c/b/x", b"again")])
        wait_until(lambda: w.stats.acked == 2, 10, "two acknowledged messages")
    finally:
        w.stop()
    assert sorted(m.payload for m in got) == [b"again", b"over tls"]


def test_a_broker_the_system_cas_do_not_vouch_for_is_refused_by_name(tls_broker, pki):
    w = MqttWorker(
        tls_broker.url,
        lambda messages: None,
        client_id="no-ca",
        cert_file=pki["client"],
        key_file=pki["client_key"],
        reconnect_delay_s=(0.1, 0.2),
    )
    w.start()
    try:
        wait_until(lambda: w.status()["last_error"], 10, "the failed handshake to be reported")
        assert "certificate verify failed" in w.status()["last_error"]
        assert not w.connected
    finally:
        w.stop()


def test_unreadable_tls_files_stop_the_worker_before_it_starts(tmp_path, pki):
    with pytest.raises(ConfigError, match="MQTT TLS files") as e:
        MqttWorker("mqtts://127.0.0.1:8883", print, ca_file=tmp_path / "missing.pem")
    assert "PROGNOS_MQTT_CA_FILE" in str(e.value)
    with pytest.raises(ConfigError):
        MqttWorker("mqtts://127.0.0.1:8883", print, ca_file=pki["ca"], cert_file=pki["ca"])
