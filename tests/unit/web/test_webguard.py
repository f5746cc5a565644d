"""askfront.web.guard's rules, without a server (test_attacks_web.py runs them over HTTP)."""

from __future__ import annotations

import pytest

from askfront.web.guard import HostPolicy, UploadRefused, _PartCounter


def test_a_loopback_server_answers_to_loopback_names_only() -> None:
    policy = HostPolicy.for_bind("127.0.0.1", loopback=True)
    for name in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert policy.allows(name), name
    for name in ("a.example", "192.168.1.5", "localhost.a.example", ""):
        assert not policy.allows(name), name


def test_a_wildcard_bind_answers_to_ip_addresses_but_not_to_other_names() -> None:
    policy = HostPolicy.for_bind("0.0.0.0", loopback=False)
    for name in ("192.168.1.5", "10.0.0.1", "localhost", "fe80::1"):
        assert policy.allows(name), name
    assert not policy.allows("a.example")


def test_allowed_hosts_names_and_subdomains() -> None:
    policy = HostPolicy.for_bind("127.0.0.1", loopback=True, allowed="chat.example, *.lan.example")
    assert policy.allows("chat.example") and policy.allows("box.lan.example")
    assert not policy.allows("lan.example.evil") and not policy.allows("lan.example")


def test_origins_must_be_the_same_origin_or_named() -> None:
    policy = HostPolicy.for_bind("127.0.0.1", loopback=True, allowed="chat.example")
    here = ("127.0.0.1", 7860)
    assert policy.allows_origin("http://127.0.0.1:7860", here)
    assert policy.allows_origin("http://localhost:7860", here)  # the same loopback server
    assert policy.allows_origin("https://chat.example", here)  # a proxy in front of it
    for origin in ("http://127.0.0.1:8080", "http://evil.example:7860", "null", "file://"):
        assert not policy.allows_origin(origin, here), origin


def test_allowing_any_host_still_refuses_cross_site_writes() -> None:
    policy = HostPolicy.for_bind("127.0.0.1", loopback=True, allowed="*")
    assert policy.allows("anything.example")
    assert not policy.allows_origin("http://evil.example", ("anything.example", 80))
    assert policy.allows_origin("http://anything.example", ("anything.example", 80))


def test_the_part_counter_counts_a_boundary_split_across_chunks() -> None:
    counter = _PartCounter("multipart/form-data; boundary=XyZ", max_files=2, max_bytes=10_000)
    body = b"--XyZ\r\n\r\na\r\n--XyZ\r\n\r\nb\r\n--XyZ--\r\n"
    for i in range(0, len(body), 3):  # three bytes at a time
        counter.feed(body[i : i + 3])
    assert counter.delimiters == 3
    with pytest.raises(UploadRefused, match="more than 2 files"):
        counter.feed(b"--XyZ\r\n\r\nc\r\n")
    big = _PartCounter('multipart/form-data; boundary="q"', max_files=5, max_bytes=10)
    with pytest.raises(UploadRefused, match="ASKFRONT_MAX_UPLOAD_TOTAL_MB"):
        big.feed(b"x" * 11)
