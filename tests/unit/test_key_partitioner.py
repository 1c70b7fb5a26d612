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
