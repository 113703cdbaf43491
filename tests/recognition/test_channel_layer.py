"""The channel layer follows REDIS_URL; with Redis configured, messages really cross it."""

from __future__ import annotations

import asyncio
import os

import pytest
from channels.layers import get_channel_layer
from django.conf import settings


def test_layer_is_redis_exactly_when_redis_url_is_set():
    backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    if os.environ.get("REDIS_URL"):
        assert backend == "channels_redis.core.RedisChannelLayer"
    else:
        assert backend == "channels.layers.InMemoryChannelLayer"


@pytest.mark.asyncio
async def test_a_message_goes_through_the_configured_layer():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("jamjar-test", channel)
    await layer.group_send("jamjar-test", {"type": "ping", "n": 7})
    assert (await layer.receive(channel)) == {"type": "ping", "n": 7}
    await layer.group_discard("jamjar-test", channel)


@pytest.mark.redis  # the in-memory layer has no socket to time out: 6.5 s for nothing
@pytest.mark.asyncio
async def test_a_receiver_can_wait_longer_than_five_seconds():
    """A consumer idles on the layer between frames; redis-py 8's default 5 s socket
    timeout used to kill that wait (and the websocket with it)."""
    layer = get_channel_layer()
    channel = await layer.new_channel()

    async def send_later():
        await asyncio.sleep(6.5)
        await layer.send(channel, {"type": "late"})

    sender = asyncio.create_task(send_later())
    assert (await asyncio.wait_for(layer.receive(channel), timeout=15)) == {"type": "late"}
    await sender
