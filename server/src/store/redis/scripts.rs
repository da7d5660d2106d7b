//! The Lua scripts. Each touches a ticket hash (`KEYS[1]`) and the live set
//! (`KEYS[2]`), and each runs atomically: no reader ever sees a ticket whose
//! version and body disagree, and the cap on live tickets cannot be raced.
//!
//! A ticket is a hash: `v` = version (decimal), `t` = the ticket as JSON,
//! `d` = when it may be dropped (unix milliseconds; the key's TTL matches).
//! The live set is a sorted set of ticket ids scored by that drop time; it
//! is what `--max-tickets` counts (entries past their time are pruned first).
//! Two keys in different hash slots: a single Redis (or a primary with
//! replicas), not Redis Cluster.

use redis::Script;

/// Result codes of [`insert`].
pub(super) const INSERT_DUPLICATE: i64 = 0;
pub(super) const INSERT_DONE: i64 = 1;
pub(super) const INSERT_FULL: i64 = 2;

/// `ARGV`: version, json, ttl ms, drop-at ms, now ms, max live tickets (0:
/// no cap), ticket id. Returns [`INSERT_DONE`], [`INSERT_DUPLICATE`] if the
/// key exists, or [`INSERT_FULL`] when the live set holds the maximum.
///
/// The ticket's `HSET` is the script's first write: Redis checks
/// `maxmemory` only before a script's first write, so counting (read-only)
/// comes before it and pruning after it — a full Redis still refuses.
pub(super) fn insert() -> Script {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local max = tonumber(ARGV[6])
if max > 0 and redis.call('ZCOUNT', KEYS[2], ARGV[5], '+inf') >= max then return 2 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 't', ARGV[2], 'd', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[7])
return 1
",
    )
}

/// Result codes of [`compare_and_swap`].
pub(super) const CAS_MISSING: i64 = 0;
pub(super) const CAS_STALE: i64 = 1;
pub(super) const CAS_DONE: i64 = 2;

/// `ARGV`: expected version, new version, json, ttl ms, drop-at ms, channel,
/// message, ticket id. Replaces the ticket only if its version is the
/// expected one, then renews the TTL (and its live-set score) and publishes
/// the change — all or nothing.
pub(super) fn compare_and_swap() -> Script {
    Script::new(
        r"
local version = redis.call('HGET', KEYS[1], 'v')
if not version then return 0 end
if version ~= ARGV[1] then return 1 end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 't', ARGV[3], 'd', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[8])
redis.call('PUBLISH', ARGV[6], ARGV[7])
return 2
",
    )
}

/// `ARGV`: now ms, channel, message, ticket id. Deletes the ticket if its
/// drop time passed (and tells its waiters). Returns 1 if deleted.
pub(super) fn sweep_one() -> Script {
    Script::new(
        r"
local drop_at = redis.call('HGET', KEYS[1], 'd')
if drop_at and tonumber(drop_at) < tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[4])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0
",
    )
}
