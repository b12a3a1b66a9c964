"""Each configuration mistake is reported as one line that names the variable."""

from __future__ import annotations

import pytest

from control_plane.config import ConfigError, load_node_config

GOOD = {
    "NODE_ID": "cp-aws",
    "CLOUD": "aws",
    "RAFT_SELF": "127.0.1.1:7000",
    "RAFT_PEERS": "127.0.1.1:7000,127.0.2.1:7000,127.0.3.1:7000",
    "RAFT_PASSWORD": "correct horse battery",
    "DATA_DIR": "/tmp/x",
    "AUTH_TOKEN": "t0ken",
}


def test_good_config_parses_and_drops_self_from_peers() -> None:
    cfg = load_node_config(GOOD)
    assert cfg.raft_peers == ("127.0.2.1:7000", "127.0.3.1:7000")
    assert cfg.grpc_addr == "0.0.0.0:50051" and cfg.health_addr == "0.0.0.0:8080"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"RAFT_PASSWORD": ""}, "RAFT_PASSWORD"),
        ({"RAFT_PASSWORD": "short"}, "RAFT_PASSWORD"),
        ({"RAFT_PEERS": "127.0.2.1,127.0.3.1:7000"}, "RAFT_PEERS"),
        ({"RAFT_PEERS": "127.0.1.1:7000"}, "RAFT_PEERS"),
        ({"RAFT_SELF": "nohost"}, "RAFT_SELF"),
        ({"GRPC_ADDR": "0.0.0.0:99999"}, "GRPC_ADDR"),
        ({"AUTH_TOKEN": ""}, "AUTH_TOKEN"),
        ({"LEASE_TTL_S": "soon"}, "LEASE_TTL_S"),
        ({"TLS_CERT": "/nope.pem"}, "TLS_CERT"),
        ({"RAFT_BIND": "0.0.0.0"}, "RAFT_BIND"),
        ({"RAFT_ROUTES": "127.0.9.1:7000=127.0.9.11:7000"}, "RAFT_ROUTES"),
        ({"RAFT_ROUTES": "127.0.2.1:7000"}, "RAFT_ROUTES"),
    ],
)
def test_bad_config_names_the_variable(change: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_node_config({**GOOD, **change})
    assert named in str(err.value)
    assert "\n" not in str(err.value)


def test_raft_bind_separates_the_listen_address_from_the_advertised_one() -> None:
    assert load_node_config(GOOD).raft_listen == "127.0.1.1:7000"
    cloud = load_node_config({**GOOD, "RAFT_SELF": "54.1.2.3:7000", "RAFT_BIND": "0.0.0.0:7000"})
    assert cloud.raft_self == "54.1.2.3:7000" and cloud.raft_listen == "0.0.0.0:7000"


def test_raft_routes_change_where_a_peer_is_reached_not_what_it_is_called() -> None:
    cfg = load_node_config({**GOOD, "RAFT_ROUTES": "127.0.2.1:7000=127.0.2.11:7000"})
    assert cfg.raft_peers == ("127.0.2.1:7000", "127.0.3.1:7000")
    assert dict(cfg.raft_routes) == {"127.0.2.1:7000": "127.0.2.11:7000"}
