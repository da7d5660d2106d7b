//! Budgets shared by every instance through Redis (with `--redis-url`): the
//! same token buckets as [`super::RateLimiter`], kept as Redis hashes and
//! updated by one Lua script on Redis's own clock, so N instances behind a
//! load balancer give a client one budget, not N.
//!
//! Keys: `<prefix>:limit:<limit>:<subject>`, the subject an IPv4 address,
//! an IPv6 network or the SHA-256 of a name (account names never appear in
//! clear). A bucket expires once it would have refilled.
//!
//! When Redis does not answer within the operation timeout, the caller falls
//! back to this instance's own buckets (docs/deploy.md): limits then count
//! per instance again until Redis is back, rather than refusing everyone.

use std::net::IpAddr;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sha2::{Digest as _, Sha256};

/// What a budget is kept for.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// An IPv4 address or the IPv6 /64 holding it.
    Client(IpAddr),
    /// The IPv6 network of this many bits holding the address.
    Network(IpAddr, u8),
    /// A name (account, account on a client, app session).
    Name(&'a str),
}

impl Subject<'_> {
    /// The subject's part of the Redis key.
    fn key(&self) -> String {
        match *self {
            Self::Client(ip) => match ip.to_canonical() {
                IpAddr::V4(v4) => format!("4:{v4}"),
                IpAddr::V6(v6) => format!("6:{:x}", super::v6_prefix(v6, 64)),
            },
            Self::Network(ip, prefix) => match ip.to_canonical() {
                IpAddr::V4(v4) => format!("4:{v4}"),
                IpAddr::V6(v6) => format!("6/{prefix}:{:x}", super::v6_prefix(v6, prefix)),
            },
            Self::Name(name) => {
                let digest = Sha256::digest(name.as_bytes());
                let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
                format!("n:{hex}")
            }
        }
    }
}

/// One bucket's rule.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub per_second: f64,
    pub burst: f64,
    pub backoff: bool,
}

/// Takes (or with `ARGV[4] = -1` gives back) one token; answers 0 when
/// taken, else the milliseconds until one is available.
const TAKE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local per_ms = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local backoff = ARGV[3] == '1'
local cost = tonumber(ARGV[4])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(b[1]) or burst
local updated = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - updated) * per_ms)
local wait = 0
if cost < 0 then
  tokens = math.min(burst, tokens + 1)
elseif tokens >= 1 then
  tokens = tokens - 1
else
  if backoff then tokens = math.max(-burst, tokens - 1) end
  wait = math.ceil((1 - tokens) / per_ms)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((burst * 2 + 1) / per_ms) + 1000)
return wait
";

/// The shared buckets of one deployment (one Redis, one prefix).
pub struct SharedBudgets {
    conn: ConnectionManager,
    prefix: String,
    op_timeout: Duration,
    script: redis::Script,
}

impl std::fmt::Debug for SharedBudgets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedBudgets")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Redis did not answer (in time): use the local buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unavailable;

impl SharedBudgets {
    /// Connects lazily: a Redis that is down now is used once it is back.
    pub fn open(url: &str, prefix: &str, op_timeout: Duration) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("invalid Redis URL: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(op_timeout))
            .set_response_timeout(Some(op_timeout))
            .set_number_of_retries(1);
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| format!("invalid Redis settings: {e}"))?;
        Ok(Self {
            conn,
            prefix: prefix.to_string(),
            op_timeout,
            script: redis::Script::new(TAKE),
        })
    }

    /// Takes a token of `limit`'s bucket for `subject`: `Ok(Ok(()))`, or
    /// `Ok(Err(wait))` when refused.
    pub async fn take(
        &self,
        limit: &str,
        subject: Subject<'_>,
        rule: Rule,
    ) -> Result<Result<(), Duration>, Unavailable> {
        let wait_ms = self.run(limit, subject, rule, 1).await?;
        Ok(match wait_ms {
            0 => Ok(()),
            ms => Err(Duration::from_millis(ms.max(1))),
        })
    }

    /// Gives back the token `subject` took (the attempt turned out fine).
    pub async fn refund(
        &self,
        limit: &str,
        subject: Subject<'_>,
        rule: Rule,
    ) -> Result<(), Unavailable> {
        self.run(limit, subject, rule, -1).await.map(drop)
    }

    async fn run(
        &self,
        limit: &str,
        subject: Subject<'_>,
        rule: Rule,
        cost: i64,
    ) -> Result<u64, Unavailable> {
        let key = format!("{}:limit:{limit}:{}", self.prefix, subject.key());
        let mut conn = self.conn.clone();
        let mut invocation = self.script.key(key);
        invocation
            .arg(rule.per_second / 1000.0)
            .arg(rule.burst)
            .arg(if rule.backoff { "1" } else { "0" })
            .arg(cost);
        match tokio::time::timeout(self.op_timeout, invocation.invoke_async::<u64>(&mut conn)).await
        {
            Ok(Ok(wait)) => Ok(wait),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "shared rate limit unavailable; counting on this instance");
                Err(Unavailable)
            }
            Err(_) => {
                tracing::warn!(
                    "Redis did not answer in time; counting rate limits on this instance"
                );
                Err(Unavailable)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_make_stable_keys_without_names_in_clear() {
        let ip: IpAddr = "2001:db8:1:2:3:4:5:6".parse().unwrap();
        assert_eq!(Subject::Client(ip).key(), "6:20010db800010002");
        assert_eq!(Subject::Network(ip, 48).key(), "6/48:20010db80001");
        let v4: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(Subject::Client(v4).key(), "4:192.0.2.7");
        let name = Subject::Name("alice").key();
        assert!(name.starts_with("n:") && !name.contains("alice"));
        assert_eq!(
            name,
            Subject::Name("alice").key(),
            "the same on every instance"
        );
    }
}
