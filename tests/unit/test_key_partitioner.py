"""The publisher's partitioner puts a key where aiokafka's default one does (Kafka's own
murmur2 rule), so events of one client keep one partition whoever produced them."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from dispatch.bus import KeyPartitioner


@given(keys=st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=30),
       partitions=st.integers(min_value=1, max_value=64))  # fmt: skip
def test_same_partition_as_aiokafkas_default(keys: list[bytes], partitions: int) -> None:
    ours = KeyPartitioner()
    all_partitions = list(range(partitions))
    for key in keys * 2:  # the second time from the kept hashes
        assert ours(key, all_partitions) == DefaultPartitioner()(key, all_partitions, [])


def test_a_record_without_a_key_goes_to_an_available_partition() -> None:
    ours = KeyPartitioner()
    assert {ours(None, [0, 1, 2, 3], [2]) for _ in range(20)} == {2}
    assert {ours(None, [0, 1], []) for _ in range(50)} <= {0, 1}


def test_the_workers_faust_producer_places_keys_as_the_publisher_does() -> None:
    """faust's producer is given the same partitioner (a page's events and its client's
    other events share a partition whoever appends them)."""
    from dispatch.settings import Settings
    from dispatch.stack.faust_settings import faust_app_kwargs

    settings = Settings(kafka_bootstrap_servers="127.0.0.1:9092")
    partitioner = faust_app_kwargs(settings)["producer_partitioner"]
    for key in (b"client-1", b"dispatch-7", b"caller:CA123"):
        assert partitioner(key, [0, 1, 2, 3], []) == DefaultPartitioner()(key, [0, 1, 2, 3], [])
