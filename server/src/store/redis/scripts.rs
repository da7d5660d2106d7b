//! The Lua scripts. Each touches exactly one key (`KEYS[1]`, a ticket hash),
//! so they run on Redis Cluster too, and each runs atomically: no reader ever
//! sees a ticket whose version and body disagree.
//!
//! A ticket is a hash: `v` = version (decimal), `t` = the ticket as JSON,
//! `d` = when it may be dropped (unix milliseconds; the key's TTL matches).

use redis::Script;

/// `ARGV`: version, json, ttl ms, drop-at ms. Returns 1 if stored, 0 if the
/// key exists.
pub(super) fn insert() -> Script {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 't', ARGV[2], 'd', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
",
    )
}

/// Result codes of [`compare_and_swap`].
pub(super) const CAS_MISSING: i64 = 0;
pub(super) const CAS_STALE: i64 = 1;
pub(super) const CAS_DONE: i64 = 2;

/// `ARGV`: expected version, new version, json, ttl ms, drop-at ms, channel,
/// message. Replaces the ticket only if its version is the expected one, then
/// renews the TTL and publishes the change — all or nothing.
pub(super) fn compare_and_swap() -> Script {
    Script::new(
        r"
local version = redis.call('HGET', KEYS[1], 'v')
if not version then return 0 end
if version ~= ARGV[1] then return 1 end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 't', ARGV[3], 'd', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PUBLISH', ARGV[6], ARGV[7])
return 2
",
    )
}

/// `ARGV`: now ms, channel, message. Deletes the ticket if its drop time
/// passed (and tells its waiters). Returns 1 if deleted.
pub(super) fn sweep_one() -> Script {
    Script::new(
        r"
local drop_at = redis.call('HGET', KEYS[1], 'd')
if drop_at and tonumber(drop_at) < tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0
",
    )
}
