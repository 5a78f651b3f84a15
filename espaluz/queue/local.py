"""A FIFO queue with SQS FIFO semantics, kept in Redis, for the local stack.

Why not an SQS emulator: ``espaluz dev`` must start in seconds on a laptop with nothing but pip, and keep
queued messages across restarts (Redis persists them with the rest of the local data). The semantics the
tutor relies on are reproduced exactly: order within a message group, one group in flight at a time,
deduplication by id for five minutes, a receive count, and a dead-letter queue after ``max_receives``.

Dead letters are kept like SQS keeps them, for a retention period (``LOCAL_DLQ_RETENTION_SECONDS``,
SQS's default 4 days), because they hold learners' messages and phone numbers: ``dead`` is a sorted set of
message ids scored by the time (ms, the caller's clock) they were dead-lettered and ``deadm`` a hash from
id to the message's fields. Every write and read first drops the entries older than the retention, and
both keys expire (Redis's own clock) one retention after the last dead letter, so nothing outlives the
retention by more than that even if nobody looks. ``espaluz dlq`` lists, shows and redrives them;
a learner's erasure deletes theirs (``delete_dead_letters``).

Each operation is one Lua script, so concurrent producers and consumers never see a half-done state.
Records come out in the shape of an SQS Lambda event record, so the real tutor handler consumes them.

Key layout, for a Redis Cluster as well as a single node: every key of queue ``NAME`` starts with
``q:{NAME}:`` (``seq``, ``ready``, ``notify``, ``dead``, ``deadm``, ``dedup:<id>``, ``m:<seq>``,
``g:<group>``, ``lock:<group>``; ``dlq``, the unexpiring list of older versions, is moved into ``dead`` on
the first read). The braces are a hash tag, so all of a queue's keys live in one slot and a script may
touch any of them. Each script declares in ``KEYS`` the keys it can name before it runs (the cluster
client routes the script by them) and builds the rest (``m:<seq>``, a group's list and lock while it walks
the ready set) from the prefix in ``ARGV[1]``, which carries the same tag.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import redis
from redis.exceptions import RedisClusterException

from espaluz.queue.base import QueueError, QueueMessage
from espaluz.storage.redis import register_script

if TYPE_CHECKING:
    from espaluz.storage.redis import RedisClient

DEDUP_WINDOW_SECONDS = 300
DEFAULT_DLQ_RETENTION_SECONDS = 345_600  # SQS's default MessageRetentionPeriod (4 days)

# trim(): drops the dead letters dead-lettered before ``cutoff`` (ms); shared by the scripts that read them.
_TRIM = """
local function trim(dead, deadm, cutoff)
  local below = '(' .. string.format('%.0f', cutoff)
  local old = redis.call('ZRANGEBYSCORE', dead, '-inf', below)
  for _, id in ipairs(old) do redis.call('HDEL', deadm, id) end
  if #old > 0 then redis.call('ZREMRANGEBYSCORE', dead, '-inf', below) end
end
"""

# KEYS: dedup:<id>, seq, g:<group>, ready, notify. ARGV: prefix, dedup id, group, body, sent ms, window s.
_SEND = """
local p = ARGV[1]
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[6])) then return 0 end
local seq = redis.call('INCR', KEYS[2])
local id = tostring(seq)
redis.call('HSET', p..'m:'..id, 'body', ARGV[4], 'group', ARGV[3], 'dedup', ARGV[2], 'receives', 0,
           'sent', ARGV[5], 'seq', seq)
redis.call('RPUSH', KEYS[3], id)
redis.call('ZADD', KEYS[4], 'NX', seq, ARGV[3])
redis.call('LPUSH', KEYS[5], id)
redis.call('LTRIM', KEYS[5], 0, 0)
return seq
"""

# KEYS: ready, dead, deadm. ARGV: prefix, want, visibility ms, max receives, now ms, retention ms.
# Returns a flat list: group, id, body, receives, sent, dedup, seq, ... for up to ARGV[2] messages.
_RECEIVE = (
    _TRIM
    + """
local p = ARGV[1]
local want = tonumber(ARGV[2])
local visibility = tonumber(ARGV[3])
local max_receives = tonumber(ARGV[4])
local now = tonumber(ARGV[5])
local retention = tonumber(ARGV[6])
local dead = 0
local out = {}
local got = 0
local groups = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, g in ipairs(groups) do
  if got >= want then break end
  if redis.call('EXISTS', p..'lock:'..g) == 0 then
    local ids = redis.call('LRANGE', p..'g:'..g, 0, want - got - 1)
    local taken = 0
    for _, id in ipairs(ids) do
      local receives = redis.call('HINCRBY', p..'m:'..id, 'receives', 1)
      if receives > max_receives then
        local fields = redis.call('HGETALL', p..'m:'..id)
        local entry = {id = id, dead_at = ARGV[5]}
        for i = 1, #fields, 2 do entry[fields[i]] = fields[i + 1] end
        redis.call('ZADD', KEYS[2], now, id)
        redis.call('HSET', KEYS[3], id, cjson.encode(entry))
        dead = dead + 1
        redis.call('LREM', p..'g:'..g, 1, id)
        redis.call('DEL', p..'m:'..id)
      else
        local m = redis.call('HMGET', p..'m:'..id, 'body', 'sent', 'dedup', 'seq')
        table.insert(out, g) table.insert(out, id) table.insert(out, m[1])
        table.insert(out, tostring(receives)) table.insert(out, m[2]) table.insert(out, m[3])
        table.insert(out, m[4])
        taken = taken + 1
        got = got + 1
      end
    end
    if taken > 0 then
      redis.call('SET', p..'lock:'..g, '1', 'PX', visibility)
    elseif redis.call('LLEN', p..'g:'..g) == 0 then
      redis.call('ZREM', KEYS[1], g)
    end
  end
end
if dead > 0 then
  trim(KEYS[2], KEYS[3], now - retention)
  redis.call('PEXPIRE', KEYS[2], retention)
  redis.call('PEXPIRE', KEYS[3], retention)
end
return out
"""
)

# KEYS: dead, deadm, dlq (the list of older versions). ARGV: now ms, retention ms.
# Returns the live entries (JSON), oldest dead letter first.
_DEAD_LETTERS = (
    _TRIM
    + """
local now = tonumber(ARGV[1])
if redis.call('TYPE', KEYS[3]).ok == 'list' then
  for _, raw in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do
    local flat = cjson.decode(raw)
    local entry = {dead_at = ARGV[1]}
    for i = 1, #flat, 2 do entry[flat[i]] = flat[i + 1] end
    entry['id'] = entry['seq']
    redis.call('ZADD', KEYS[1], now, entry['id'])
    redis.call('HSET', KEYS[2], entry['id'], cjson.encode(entry))
  end
  redis.call('DEL', KEYS[3])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]))
end
trim(KEYS[1], KEYS[2], now - tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local raw = redis.call('HGET', KEYS[2], id)
  if raw then table.insert(out, raw) end
end
return out
"""
)

# KEYS: dead, deadm. ARGV: ids. Returns how many were deleted.
_DELETE_DEAD = """
local n = 0
for i = 1, #ARGV do
  n = n + redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('HDEL', KEYS[2], ARGV[i])
end
return n
"""

# KEYS: dead, deadm, seq, ready, notify. ARGV: prefix, id, now ms, window s.
# Sends dead letter ``id`` to the tail of its group (as SQS's redrive does) and deletes it from the
# dead letters, in one step: it is never in both places, nor in neither. The new deduplication id names
# the dead letter's own sequence number, unique to that dead-lettering, so a message that dies again
# and is redriven again within five minutes is not dropped as a duplicate. Returns the new id, or 0
# when ``id`` is not (or no longer) a dead letter.
_REDRIVE = """
local p = ARGV[1]
local raw = redis.call('HGET', KEYS[2], ARGV[2])
if not raw or not redis.call('ZSCORE', KEYS[1], ARGV[2]) then return 0 end
local e = cjson.decode(raw)
local dedup = string.sub((e['dedup'] or e['id']) .. ':redrive:' .. e['seq'], 1, 128)
redis.call('SET', p..'dedup:'..dedup, '1', 'EX', tonumber(ARGV[4]))
local seq = redis.call('INCR', KEYS[3])
local id = tostring(seq)
redis.call('HSET', p..'m:'..id, 'body', e['body'], 'group', e['group'], 'dedup', dedup, 'receives', 0,
           'sent', ARGV[3], 'seq', seq)
redis.call('RPUSH', p..'g:'..e['group'], id)
redis.call('ZADD', KEYS[4], 'NX', seq, e['group'])
redis.call('LPUSH', KEYS[5], id)
redis.call('LTRIM', KEYS[5], 0, 0)
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[2])
return seq
"""

# KEYS: g:<group>, ready, lock:<group>. ARGV: prefix, group, retry_delay_ms, then ids to delete.
_SETTLE = """
local p = ARGV[1]
local g = ARGV[2]
for i = 4, #ARGV do
  redis.call('LREM', KEYS[1], 1, ARGV[i])
  redis.call('DEL', p..'m:'..ARGV[i])
end
if redis.call('LLEN', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], g)
  redis.call('DEL', KEYS[3])
elseif tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[3], '1', 'PX', tonumber(ARGV[3]))
else
  redis.call('DEL', KEYS[3])
end
return 1
"""

# KEYS: ready. ARGV: prefix. A group is locked only while it is in the ready set (receive locks a group
# it found there; settle drops the lock when it drops the group), so walking the set finds every lock,
# in the queue's own slot, without a SCAN over every node of a cluster.
_RELEASE_ALL = """
local released = 0
for _, g in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  released = released + redis.call('DEL', ARGV[1]..'lock:'..g)
end
return released
"""


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    message_id: str
    group_id: str
    body: str
    receive_count: int
    sent_ms: int
    dedup_id: str
    sequence: int

    def to_sqs_record(self, queue_arn: str) -> dict[str, Any]:
        """The record as AWS hands it to a Lambda in an SQS event."""
        return {
            "messageId": self.message_id,
            "receiptHandle": f"local-{self.message_id}-{self.receive_count}",
            "body": self.body,
            "attributes": {
                "ApproximateReceiveCount": str(self.receive_count),
                "SentTimestamp": str(self.sent_ms),
                "SequenceNumber": str(self.sequence).zfill(20),
                "MessageGroupId": self.group_id,
                "SenderId": "local",
                "MessageDeduplicationId": self.dedup_id,
                "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000)),
            },
            "messageAttributes": {},
            "md5OfBody": hashlib.md5(self.body.encode(), usedforsecurity=False).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": queue_arn.split(":")[3],
        }


class LocalFifoQueue:
    """See the module docstring. ``name`` separates queues sharing one Redis."""

    def __init__(
        self,
        client: RedisClient,
        name: str = "inbound",
        *,
        visibility_timeout_ms: int = 60_000,
        max_receives: int = 5,
        dlq_retention_seconds: int | None = None,
    ) -> None:
        """``dlq_retention_seconds``: how long dead letters are kept; None reads
        ``LOCAL_DLQ_RETENTION_SECONDS`` from the settings, so every holder of the queue (the local worker,
        the webhook, ``espaluz dlq``) applies the same one without passing it along."""
        self.redis = client
        self.prefix = f"q:{{{name}}}:"  # the hash tag keeps the queue in one cluster slot
        self.arn = f"arn:aws:sqs:us-east-1:000000000000:espaluz-local-{name}.fifo"
        self.visibility_timeout_ms = visibility_timeout_ms
        self.max_receives = max_receives
        if dlq_retention_seconds is None:
            from espaluz.config import get_settings

            dlq_retention_seconds = get_settings().local_dlq_retention_seconds
        self.dlq_retention_ms = dlq_retention_seconds * 1000
        self._send = register_script(client, _SEND)
        self._receive = register_script(client, _RECEIVE)
        self._settle = register_script(client, _SETTLE)
        self._release_all = register_script(client, _RELEASE_ALL)
        self._dead_letters = register_script(client, _DEAD_LETTERS)
        self._delete_dead = register_script(client, _DELETE_DEAD)
        self._redrive = register_script(client, _REDRIVE)

    def key(self, suffix: str) -> str:
        """One of this queue's keys (``ready``, ``g:<group>``...), for callers that inspect the queue."""
        return self.prefix + suffix

    def send_batch(self, messages: Sequence[QueueMessage]) -> None:
        now_ms = str(int(time.time() * 1000))
        try:
            for m in messages:
                keys = [
                    self.key(f"dedup:{m.dedup_id}"),
                    self.key("seq"),
                    self.key(f"g:{m.group_id}"),
                    self.key("ready"),
                    self.key("notify"),
                ]
                args = [self.prefix, m.dedup_id, m.group_id, m.body, now_ms, DEDUP_WINDOW_SECONDS]
                self._send(keys=keys, args=args)
        # The cluster client raises RedisClusterException, which is not a RedisError, when no node answers.
        except (redis.RedisError, RedisClusterException) as exc:
            raise QueueError(f"local queue unavailable: {type(exc).__name__}") from exc

    def receive(self, max_messages: int = 10, *, now: float | None = None) -> list[ReceivedMessage]:
        """Up to ``max_messages`` deliverable messages; a message past ``max_receives`` becomes a dead
        letter instead, stamped with ``now`` (seconds; default this process's clock)."""
        flat = self._receive(
            keys=[self.key("ready"), self.key("dead"), self.key("deadm")],
            args=[
                self.prefix,
                max_messages,
                self.visibility_timeout_ms,
                self.max_receives,
                _ms(now),
                self.dlq_retention_ms,
            ],
        )
        out: list[ReceivedMessage] = []
        for i in range(0, len(flat), 7):
            group, mid, body, receives, sent, dedup, seq = (_s(x) for x in flat[i : i + 7])
            out.append(ReceivedMessage(mid, group, body, int(receives), int(sent), dedup, int(seq)))
        return out

    def settle(self, group_id: str, done_ids: Sequence[str], retry_delay_ms: int = 0) -> None:
        """Delete ``done_ids`` of a group and release it; the group's other messages are delivered again
        after ``retry_delay_ms`` (like a visibility timeout after a failure)."""
        keys = [self.key(f"g:{group_id}"), self.key("ready"), self.key(f"lock:{group_id}")]
        self._settle(keys=keys, args=[self.prefix, group_id, retry_delay_ms, *done_ids])

    def release_all(self) -> int:
        """Make every message group deliverable now. Only for a sole consumer that is (re)starting: the
        locks it finds were left by a consumer that died, and waiting out their visibility timeout would
        only delay the learner. Returns how many groups were locked."""
        return int(self._release_all(keys=[self.key("ready")], args=[self.prefix]))

    def wait(self, timeout_s: float) -> None:
        """Block until something is sent (or the timeout passes); cheaper than polling. Keep ``timeout_s``
        under the client's 2 s socket timeout."""
        self.redis.brpop([self.key("notify")], timeout=timeout_s)

    def depth(self) -> int:
        total = 0
        for group in self.redis.zrange(self.key("ready"), 0, -1):
            total += int(self.redis.llen(self.key("g:" + _s(group))))
        return total

    def dead_letters(self, *, now: float | None = None) -> list[dict[str, str]]:
        """The dead letters within the retention at ``now`` (seconds; default this process's clock),
        oldest first, each with its fields: ``id``, ``group``, ``body``, ``dedup``, ``receives``,
        ``sent`` (ms), ``seq``, ``dead_at`` (ms). Older ones are deleted on the way."""
        raw = self._dead_letters(
            keys=[self.key("dead"), self.key("deadm"), self.key("dlq")],
            args=[_ms(now), self.dlq_retention_ms],
        )
        return [{k: str(v) for k, v in json.loads(_s(item)).items()} for item in raw]

    def redrive_dead_letter(self, dead_id: str, *, now: float | None = None) -> str | None:
        """Send dead letter ``dead_id`` back to the tail of its message group and delete it from the dead
        letters, atomically; returns the message's new id, or None when it is not a dead letter."""
        keys = [self.key(k) for k in ("dead", "deadm", "seq", "ready", "notify")]
        seq = int(self._redrive(keys=keys, args=[self.prefix, dead_id, _ms(now), DEDUP_WINDOW_SECONDS]))
        return str(seq) if seq else None

    def delete_dead_letters(self, dead_ids: Sequence[str]) -> int:
        """Delete these dead letters (a learner's erasure); returns how many there were."""
        if not dead_ids:
            return 0
        return int(self._delete_dead(keys=[self.key("dead"), self.key("deadm")], args=list(dead_ids)))


def _ms(now: float | None) -> int:
    return int((time.time() if now is None else now) * 1000)


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
