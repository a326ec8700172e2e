"""Free TCP ports on the loopback interface, for the servers the tests start.

Chosen below the kernel's ephemeral range, not by binding port 0: a port the
kernel hands out as ephemeral can be handed out again, to any JVM's driver or
block manager (ours run two test processes side by side), in the seconds before
the server binds it, which failed a serve test once ("Address already in use").
"""

import random
import socket
from pathlib import Path

RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_given: set[int] = set()


def _below_ephemeral() -> range:
    first_ephemeral = int(RANGE.read_text().split()[0]) if RANGE.exists() else 32768
    return range(max(1024, first_ephemeral - 12_000), first_ephemeral)


def free_port() -> int:
    candidates = [port for port in _below_ephemeral() if port not in _given]
    for port in random.SystemRandom().sample(candidates, min(200, len(candidates))):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port
    raise RuntimeError("no free TCP port below the ephemeral range")
