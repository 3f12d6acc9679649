"""Where an MQTT broker is and how to reach it: its URL, TLS, the subscription filter and a
client id of the worker's own."""

from __future__ import annotations

import itertools
import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from prognos.errors import ConfigError, ValidationFailed


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None


def parse_broker_url(url: str) -> BrokerAddress:
    """``mqtt://[user:pass@]host[:port]`` (1883) or ``mqtts://...`` (8883, TLS)."""
    u = urlparse(url if "://" in url else f"mqtt://{url}")
    if u.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not u.hostname:
        raise ValidationFailed(
            f"not an MQTT broker URL: {url!r}", hint="write it as mqtt://HOST:PORT"
        )
    tls = u.scheme in ("mqtts", "ssl")
    return BrokerAddress(
        host=u.hostname,
        port=u.port or (8883 if tls else 1883),
        tls=tls,
        username=unquote(u.username) if u.username else None,
        password=unquote(u.password) if u.password else None,
    )


def tls_context(
    ca_file: str | Path | None = None,
    cert_file: str | Path | None = None,
    key_file: str | Path | None = None,
) -> ssl.SSLContext:
    """Verify the broker against ``ca_file`` (else the system's CAs); present ``cert_file``
    when the broker asks for a client certificate."""
    try:
        ctx = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        if cert_file:
            ctx.load_cert_chain(str(cert_file), str(key_file) if key_file else None)
    except (OSError, ssl.SSLError) as e:
        raise ConfigError(
            f"cannot load the MQTT TLS files: {e}",
            hint="check PROGNOS_MQTT_CA_FILE, PROGNOS_MQTT_CERT_FILE and PROGNOS_MQTT_KEY_FILE "
            "(PEM files readable by this process)",
        ) from e
    return ctx


def shared_topic(topic: str, group: str | None) -> str:
    """The subscription filter: ``$share/<group>/<topic>`` when a group is given."""
    return f"$share/{group}/{topic}" if group else topic


_in_process = itertools.count()


def default_client_id(group: str | None) -> str:
    """Distinct for every worker: host, process id, and a count for a second worker in one
    process. Two workers never share a session (they knocked each other off the broker when
    the id was the host's); a session left behind by a worker that ended is taken over by a
    survivor (``service/workers/takeover.py``)."""
    n = next(_in_process)
    tail = f"-{n}" if n else ""
    return f"prognos-{group or 'ingest'}-{socket.gethostname()}-{os.getpid()}{tail}"[-64:]
