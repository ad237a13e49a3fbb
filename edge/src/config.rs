//! Settings (plain vars with documented defaults) and the keys events need.

use edgeprompt::events::token::MacKey;
use edgeprompt_shell::secrets::{key_secret, once_per_isolate, NamedCache, SecretError};
use std::cell::{OnceCell, RefCell};
use std::rc::Rc;
use worker::Env;

// Vars and secrets are fixed for an isolate's lifetime (a change is a new deployment,
// hence new isolates), so each is read from the environment once.
thread_local! {
    static SETTINGS: OnceCell<Settings> = const { OnceCell::new() };
}

/// Settings read from `[vars]`, each with a default.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// How long a compiled manifest is served before a request revalidates it.
    pub refresh_ms: u64,
    /// How long an event token is accepted.
    pub token_ttl_ms: u64,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// How long exposures wait in the isolate to be sent as one queue message.
    pub flush_delay_ms: u64,
    /// Whether the local-dev routes exist (`/__dev/panic`, `/__dev/echo`, `/__dev/queue`).
    pub dev_panic: bool,
    /// Shards per weights period for new periods (S): a unit's events go to shard
    /// `fnv(unit hash) mod S`.
    pub event_shards: u32,
    /// Event queues (Q): bindings `EVENTS_0` .. `EVENTS_{Q-1}`.
    pub event_queues: u32,
    /// The consumers' `max_retries` (as in wrangler.toml): the last delivery is
    /// attempt `max_retries + 1`.
    pub max_retries: u32,
    /// Dev-only fault injection (`EDGEPROMPT_DEV_FAULTS`).
    pub faults: Faults,
}

/// Faults injected for tests (`EDGEPROMPT_DEV_FAULTS`, comma-separated; never set in
/// the wrangler files).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Faults {
    /// `consumer=P`: the consumer asks for redelivery of this fraction of messages
    /// after applying them (never on a message's last allowed delivery).
    pub consumer: f64,
    /// `aggregator=P`: an aggregator object fails this fraction of its calls after
    /// writing units and aggregates but before the batch ids, inside its transaction
    /// (which must roll back).
    pub aggregator: f64,
    /// `refresh_hang=N`: the first N background revalidations of an isolate never
    /// settle (a KV read that hangs).
    pub refresh_hang: u32,
}

impl Faults {
    /// Parses `consumer=0.2,...`; unknown or malformed entries are ignored.
    pub fn parse(text: &str) -> Faults {
        let mut f = Faults::default();
        for item in text.split(',') {
            let Some((name, p)) = item.trim().split_once('=') else {
                continue;
            };
            if name == "refresh_hang" {
                f.refresh_hang = p.trim().parse().unwrap_or(0);
                continue;
            }
            let p = p.trim().parse::<f64>().unwrap_or(0.0).clamp(0.0, 1.0);
            match name {
                "consumer" => f.consumer = p,
                "aggregator" => f.aggregator = p,
                _ => {}
            }
        }
        f
    }
}

/// Default refresh interval: 10 s.
pub const DEFAULT_REFRESH_MS: u64 = 10_000;
/// Default token expiry: 7 days.
pub const DEFAULT_TOKEN_TTL_S: u64 = 7 * 24 * 3600;
/// Default body limit: 256 KiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;
/// Default exposure flush delay: 25 ms.
pub const DEFAULT_FLUSH_DELAY_MS: u64 = 25;
/// Default shards per period.
pub const DEFAULT_EVENT_SHARDS: u64 = 8;
/// Default event queues.
pub const DEFAULT_EVENT_QUEUES: u64 = 4;
/// Default consumer `max_retries`.
pub const DEFAULT_MAX_RETRIES: u64 = 5;

fn var_u64(env: &Env, name: &str, default: u64) -> u64 {
    env.var(name)
        .ok()
        .and_then(|v| v.to_string().trim().parse().ok())
        .unwrap_or(default)
}

impl Settings {
    /// The settings, read from the environment on first use.
    pub fn get(env: &Env) -> Settings {
        SETTINGS.with(|s| *s.get_or_init(|| Settings::from_env(env)))
    }

    /// Reads the settings from the environment.
    pub fn from_env(env: &Env) -> Settings {
        Settings {
            refresh_ms: var_u64(env, "REFRESH_INTERVAL_MS", DEFAULT_REFRESH_MS),
            token_ttl_ms: var_u64(env, "TOKEN_TTL_SECONDS", DEFAULT_TOKEN_TTL_S)
                .saturating_mul(1000),
            max_body_bytes: usize::try_from(var_u64(
                env,
                "MAX_BODY_BYTES",
                DEFAULT_MAX_BODY_BYTES as u64,
            ))
            .unwrap_or(DEFAULT_MAX_BODY_BYTES),
            flush_delay_ms: var_u64(env, "EXPOSURE_FLUSH_DELAY_MS", DEFAULT_FLUSH_DELAY_MS),
            dev_panic: env
                .var("EDGEPROMPT_DEV_PANIC")
                .map(|v| v.to_string() == "1")
                .unwrap_or(false),
            event_shards: var_u64(env, "EVENT_SHARDS", DEFAULT_EVENT_SHARDS).clamp(1, 1024) as u32,
            event_queues: var_u64(env, "EVENT_QUEUES", DEFAULT_EVENT_QUEUES).clamp(1, 64) as u32,
            max_retries: var_u64(env, "EVENT_MAX_RETRIES", DEFAULT_MAX_RETRIES).min(100) as u32,
            faults: env
                .var("EDGEPROMPT_DEV_FAULTS")
                .map(|v| Faults::parse(&v.to_string()))
                .unwrap_or_default(),
        }
    }

    /// How long dedup state is kept: the token lifetime plus a day, in hours.
    pub fn retention_hours(&self) -> u32 {
        u32::try_from(self.token_ttl_ms / 3_600_000 + 24).unwrap_or(u32::MAX)
    }
}

/// Name of the secret that signs event tokens.
pub const EVENT_SIGNING_KEY: &str = "EVENT_SIGNING_KEY";
/// Name of the secret that keys unit hashes.
pub const UNIT_HASH_KEY: &str = "UNIT_HASH_KEY";

/// Both keys an exposure needs.
pub struct Keys {
    /// Signs tokens.
    pub signing: Rc<MacKey>,
    /// Keys unit hashes.
    pub unit_hash: Rc<MacKey>,
}

impl Keys {
    /// Reads both secrets.
    pub fn from_env(env: &Env) -> Result<Keys, SecretError> {
        Ok(Keys {
            signing: mac_key(env, EVENT_SIGNING_KEY)?,
            unit_hash: mac_key(env, UNIT_HASH_KEY)?,
        })
    }
}

thread_local! {
    static MAC_KEYS: NamedCache<Rc<MacKey>> = const { RefCell::new(Vec::new()) };
}

/// A secret prepared as an HMAC key, once per isolate; an error naming a missing or
/// short secret.
pub fn mac_key(env: &Env, name: &'static str) -> Result<Rc<MacKey>, SecretError> {
    once_per_isolate(&MAC_KEYS, name, || {
        // `key_secret` refuses an empty value, the only key MacKey::new refuses.
        MacKey::new(&key_secret(env, name)?)
            .map(Rc::new)
            .map_err(|_| SecretError::Missing(name))
    })
}
