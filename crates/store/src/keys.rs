//! The single table's key layout. Every key string trackses writes is built here.
//!
//! | item | pk | sk | gsi1pk / gsi1sk |
//! |---|---|---|---|
//! | project | `P#<pid>` | `PROJECT` | |
//! | API key (hash only) | `P#<pid>` | `KEY#<kid>` | `K#<kid>` / `KEY` |
//! | forwarding endpoint (and its signing secrets) | `P#<pid>` | `EP#<eid>` | |
//! | dead letter (an event an endpoint never took) | `DL#<pid>` | `<eid>#<event id>` | |
//! | connection | `C#<cid>` | `CONN` | `P#<pid>#CONNS` / `<cid>` |
//! | topic route (a proven topic's connection) | `T#<topic arn>` | `TOPIC` | |
//! | EventBridge route (a proven account's connection) | `EB#<account>#<region>` | `<configuration set>` | |
//! | topic proof (token hash only) | `TP#<token sha256>` | `TOPIC_PROOF` | |
//! | role onboarding (token hash only) | `OB#<token sha256>` | `ONBOARDING` | |
//! | event | `M#<pid>#<ses message id>` | `E#<delivery key>` | `E#<pid>#<shard>` / `E#<event id>` |
//! | suppression | `S#<pid>` | `<recipient>` | |
//! | counters | `N#<pid>#<ALL, cid or rule id>#<D, H or M>` | `<day>`, `<hour>` or `<minute>` | |
//! | alert rule | `P#<pid>` | `AR#<rule id>` | |
//! | alert channel (and its signing secret) | `P#<pid>` | `CH#<channel id>` | |
//! | scheduled alert rule (health, silence) | `RULES#SCHEDULED` | `<pid>#<rule id>` | |
//! | open alert (one per rule and subject) | `ALERTS#OPEN` | `<pid>#<rule id>#<subject>` | |
//! | alert (history) | `AL#<pid>` | `<alert id>` | |
//! | e-mail channel confirmation (token hash only) | `CC#<token sha256>` | `CONFIRM` | |
//! | a confirmation sent to an address (its hash only; a day) | `CCA#<address sha256>` | `CONFIRM` | |
//!
//! An event's sort key is derived from what was delivered (the SNS message id or EventBridge
//! event id, and the recipient), so a redelivered copy lands on the same key and its conditional
//! put changes nothing: the event item is its own duplicate marker. A message's events share one partition, so its timeline and
//! every recipient's status are one query. The event id (a ULID minted on arrival) is the index
//! key the project's stream and live tail page on.

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1: &str = "gsi1";
pub const GSI1_PK: &str = "gsi1pk";
pub const GSI1_SK: &str = "gsi1sk";
pub const TTL: &str = "expires_at";

/// One tenant's events spread over this many index partitions: each event is one index write
/// of at most 1 KB (1 WCU), and a partition takes 1,000 WCU/s, so 16 carry 10,000 events/s with
/// room for an uneven hash (`tests/partition_load.rs` measures it over this layout).
pub const EVENT_SHARDS: u32 = 16;

/// Which counters: the whole project, one connection of it, or what one alert rule watches.
#[derive(Debug, Clone, Copy)]
pub enum CounterScope<'a> {
    Project,
    Connection(&'a str),
    Rule(&'a str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Granularity {
    Day,
    Hour,
    /// Alert rules' bursts only; these items expire (`MINUTE_COUNTER_DAYS`).
    Minute,
}

/// Minute counters are read for an hour at most; kept a little longer, then expired.
pub const MINUTE_COUNTER_DAYS: i64 = 2;
/// An alert rule's hour counters are read for a week at most (`bounds::WINDOW_HOURS`).
pub const RULE_COUNTER_DAYS: i64 = 8;

impl Granularity {
    /// The bucket of an RFC 3339 time with `Z`: `YYYY-MM-DD`, `YYYY-MM-DDTHH` or
    /// `YYYY-MM-DDTHH:MM`.
    pub fn bucket(self, time: &str) -> &str {
        match self {
            Granularity::Day => &time[..10],
            Granularity::Hour => &time[..13],
            Granularity::Minute => &time[..16],
        }
    }

    pub fn letter(self) -> &'static str {
        match self {
            Granularity::Day => "D",
            Granularity::Hour => "H",
            Granularity::Minute => "M",
        }
    }

    pub fn from_letter(letter: &str) -> Option<Granularity> {
        [Granularity::Day, Granularity::Hour, Granularity::Minute]
            .into_iter()
            .find(|g| g.letter() == letter)
    }
}

pub const PROJECT_SK: &str = "PROJECT";
pub const CONNECTION_SK: &str = "CONN";
pub const TOPIC_SK: &str = "TOPIC";
pub const TOPIC_PROOF_SK: &str = "TOPIC_PROOF";
/// The sealed customer credentials, beside (not inside) the connection item, so that reading a
/// connection never fetches them.
pub const SECRET_SK: &str = "SECRET";
pub const ACCOUNT_CLAIM_SK: &str = "ACCOUNT";
pub const ONBOARDING_SK: &str = "ONBOARDING";
pub const EVENT_PREFIX: &str = "E#";

pub fn project(pid: &str) -> String {
    ["P#", pid].concat()
}

pub fn api_key_sk(kid: &str) -> String {
    ["KEY#", kid].concat()
}

/// Where a key is found by its id alone (signing in with the key, which names no project).
pub fn api_key_lookup(kid: &str) -> String {
    ["K#", kid].concat()
}

pub const API_KEY_LOOKUP_SK: &str = "KEY";

pub const ENDPOINT_PREFIX: &str = "EP#";

pub fn endpoint_sk(eid: &str) -> String {
    [ENDPOINT_PREFIX, eid].concat()
}

pub fn dead_letters(pid: &str) -> String {
    ["DL#", pid].concat()
}

/// An endpoint's dead letters sort together, by event id (arrival).
pub fn dead_letter_sk(eid: &str, event_id: &str) -> String {
    [eid, "#", event_id].concat()
}

pub fn connection(cid: &str) -> String {
    ["C#", cid].concat()
}

pub fn project_connections(pid: &str) -> String {
    ["P#", pid, "#CONNS"].concat()
}

/// One connection per project, account and region for the modes that wire the account.
pub fn account_claim(pid: &str, account_id: &str, region: &str) -> String {
    ["A#", pid, "#", account_id, "#", region].concat()
}

pub fn onboarding(token_sha256: &str) -> String {
    ["OB#", token_sha256].concat()
}

pub fn topic(arn: &str) -> String {
    ["T#", arn].concat()
}

/// The EventBridge routes of one account and region: one per configuration set, so the account's
/// signals reach each of its connections and its mail events only the set's own.
pub fn eventbridge_routes(account_id: &str, region: &str) -> String {
    ["EB#", account_id, "#", region].concat()
}

pub fn topic_proof(token_sha256: &str) -> String {
    ["TP#", token_sha256].concat()
}

pub fn message(pid: &str, ses_message_id: &str) -> String {
    ["M#", pid, "#", ses_message_id].concat()
}

/// The same delivery of the same recipient's event always gets the same key: 128 bits of a
/// SHA-256 over the delivery's id (unique per SNS message or EventBridge event) and the recipient.
pub fn event_sk(delivery_id: &str, recipient: &str) -> String {
    let mut digest = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    digest.update(delivery_id.as_bytes());
    // A separator no message id contains, so ("ab", "c") and ("a", "bc") differ.
    digest.update(b"\n");
    digest.update(recipient.as_bytes());
    [EVENT_PREFIX, &hex::encode(&digest.finish().as_ref()[..16])].concat()
}

/// Where an event sorts in its project's stream: by id, which is by arrival.
pub fn event_index_sk(event_id: &str) -> String {
    [EVENT_PREFIX, event_id].concat()
}

pub fn project_events(pid: &str, shard: u32) -> String {
    ["E#", pid, "#", &shard.to_string()].concat()
}

pub fn alert_rule_sk(rule_id: &str) -> String {
    ["AR#", rule_id].concat()
}

pub const ALERT_RULE_PREFIX: &str = "AR#";

pub fn channel_sk(channel_id: &str) -> String {
    ["CH#", channel_id].concat()
}

pub const CHANNEL_PREFIX: &str = "CH#";

pub const SCHEDULED_RULES: &str = "RULES#SCHEDULED";

pub fn scheduled_rule_sk(pid: &str, rule_id: &str) -> String {
    [pid, "#", rule_id].concat()
}

pub const OPEN_ALERTS: &str = "ALERTS#OPEN";

pub fn open_alert_sk(pid: &str, rule_id: &str, subject: &str) -> String {
    [pid, "#", rule_id, "#", subject].concat()
}

pub fn alerts(pid: &str) -> String {
    ["AL#", pid].concat()
}

pub const ALERTS_PREFIX: &str = "AL#";

pub fn channel_confirmation(token_sha256: &str) -> String {
    ["CC#", token_sha256].concat()
}

pub const CHANNEL_CONFIRMATION_SK: &str = "CONFIRM";

/// That an address (by its hash) was sent a confirmation: one a day, whichever project asks.
pub fn confirmation_sent(address_sha256: &str) -> String {
    ["CCA#", address_sha256].concat()
}

pub fn suppressions(pid: &str) -> String {
    ["S#", pid].concat()
}

pub fn counters(pid: &str, scope: CounterScope<'_>, granularity: Granularity) -> String {
    let scope = match scope {
        CounterScope::Project => "ALL",
        CounterScope::Connection(id) | CounterScope::Rule(id) => id,
    };
    ["N#", pid, "#", scope, "#", granularity.letter()].concat()
}

/// FNV-1a: stable across processes and releases, unlike std's hasher, and cheap.
pub fn shard_of(value: &str, shards: u32) -> u32 {
    let hash = value.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (hash % u64::from(shards)) as u32
}
