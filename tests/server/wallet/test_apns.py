"""The APNs client against a local HTTP/2 stand-in: client certificate, topic, empty payload."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from server.wallet.apple.apns import ApnsClient, ApnsConfig, PushFailed, PushResult
from tests.server.wallet.apns_standin import ApnsStandIn
from tests.server.wallet.certs import PASS_TYPE_ID, CertFiles


@pytest.fixture
def apns(cert_files: CertFiles) -> Iterator[ApnsStandIn]:
    server = ApnsStandIn(
        cert_files.ca, cert_files.server_cert, cert_files.server_key, cert_files.wwdr
    ).start()
    yield server
    server.stop()


def client_for(url: str, files: CertFiles) -> ApnsClient:
    return ApnsClient(ApnsConfig(url, PASS_TYPE_ID, files.cert, files.key, files.ca, timeout=3))


def test_push_arrives_over_http2_with_the_pass_certificate(
    apns: ApnsStandIn, cert_files: CertFiles
) -> None:
    client = client_for(apns.url, cert_files)
    try:
        assert client.push("a" * 64) is PushResult.SENT
    finally:
        client.close()
    [push] = apns.wait_for(1)
    assert push.token == "a" * 64
    assert push.headers["apns-topic"] == PASS_TYPE_ID
    assert push.body == b"{}"
    assert PASS_TYPE_ID in push.client_subject


def test_a_gone_token_is_reported(apns: ApnsStandIn, cert_files: CertFiles) -> None:
    apns.gone.add("b" * 64)
    client = client_for(apns.url, cert_files)
    try:
        assert client.push("b" * 64) is PushResult.GONE
    finally:
        client.close()


def test_unreachable_apns_is_a_push_failure(cert_files: CertFiles) -> None:
    client = client_for("https://127.0.0.1:9", cert_files)
    try:
        with pytest.raises(PushFailed):
            client.push("c" * 64)
    finally:
        client.close()
