"""The free ports the tests' servers get: outside the kernel's ephemeral range,
which any JVM's driver or block manager draws from, and never the same twice."""

import socket

import pytest

from tests.support import ports

pytestmark = pytest.mark.unit


def test_ports_are_below_the_ephemeral_range_distinct_and_free():
    first_ephemeral = int(ports.RANGE.read_text().split()[0])
    given = [ports.free_port() for _ in range(50)]
    assert len(set(given)) == 50
    assert all(1024 <= port < first_ephemeral for port in given)
    for port in given:
        with socket.socket() as server:
            server.bind(("127.0.0.1", port))  # free when given


def test_a_port_in_use_is_not_given(monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        monkeypatch.setattr(ports, "_below_ephemeral", lambda: range(port, port + 1))  # the only candidate
        with pytest.raises(RuntimeError, match="no free TCP port"):
            ports.free_port()
