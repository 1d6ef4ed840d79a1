//! The single table's key layout. Every key string trackses writes is built here.
//!
//! | item | pk | sk | gsi1pk / gsi1sk |
//! |---|---|---|---|
//! | project | `P#<pid>` | `PROJECT` | |
//! | API key (hash only) | `P#<pid>` | `KEY#<kid>` | `K#<kid>` / `KEY` |
//! | connection | `C#<cid>` | `CONN` | `P#<pid>#CONNS` / `<cid>` |
//! | topic route (a proven topic's connection) | `T#<topic arn>` | `TOPIC` | |
//! | topic proof (token hash only) | `TP#<token sha256>` | `TOPIC_PROOF` | |
//! | role onboarding (token hash only) | `OB#<token sha256>` | `ONBOARDING` | |
//! | delivery marker | `DUP#<cid>#<sns message id>#<chunk>` | `DUP` | |
//! | message | `M#<pid>#<ses message id>` | `MSG` | |
//! | recipient state | `M#<pid>#<ses message id>` | `R#<recipient>` | |
//! | event | `M#<pid>#<ses message id>` | `E#<event id>` | `E#<pid>#<shard>` / `<event id>` |
//! | suppression | `S#<pid>` | `<recipient>` | |
//! | counters | `N#<pid>#<ALL or cid>#<D or H>#<shard>` | `<day>` or `<hour>` | |

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1: &str = "gsi1";
pub const GSI1_PK: &str = "gsi1pk";
pub const GSI1_SK: &str = "gsi1sk";
pub const TTL: &str = "expires_at";

/// One tenant's events spread over this many GSI partitions so a burst is not capped by one.
pub const EVENT_SHARDS: u32 = 4;
/// Each notification makes one transactional update (2 WCU) in one shard of each counter
/// partition set, so 3 shards take 1,500 notifications/s per tenant, past the 1,000 a single
/// partition would allow, while a 30-day daily view reads 3 × 30 = 90 items.
pub const COUNTER_SHARDS: u32 = 3;

/// Which counters: the whole project, or one connection of it.
#[derive(Debug, Clone, Copy)]
pub enum CounterScope<'a> {
    Project,
    Connection(&'a str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Day,
    Hour,
}

impl Granularity {
    /// The bucket of an RFC 3339 time with `Z`: `YYYY-MM-DD` or `YYYY-MM-DDTHH`.
    pub fn bucket(self, time: &str) -> &str {
        match self {
            Granularity::Day => &time[..10],
            Granularity::Hour => &time[..13],
        }
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
pub const MARKER_SK: &str = "DUP";
pub const MESSAGE_SK: &str = "MSG";
pub const RECIPIENT_PREFIX: &str = "R#";
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

pub fn topic_proof(token_sha256: &str) -> String {
    ["TP#", token_sha256].concat()
}

pub fn delivery_marker(cid: &str, sns_message_id: &str, chunk: usize) -> String {
    ["DUP#", cid, "#", sns_message_id, "#", &chunk.to_string()].concat()
}

pub fn message(pid: &str, ses_message_id: &str) -> String {
    ["M#", pid, "#", ses_message_id].concat()
}

pub fn recipient_sk(recipient: &str) -> String {
    [RECIPIENT_PREFIX, recipient].concat()
}

pub fn event_sk(event_id: &str) -> String {
    [EVENT_PREFIX, event_id].concat()
}

pub fn project_events(pid: &str, shard: u32) -> String {
    ["E#", pid, "#", &shard.to_string()].concat()
}

pub fn suppressions(pid: &str) -> String {
    ["S#", pid].concat()
}

pub fn counters(
    pid: &str,
    scope: CounterScope<'_>,
    granularity: Granularity,
    shard: u32,
) -> String {
    let scope = match scope {
        CounterScope::Project => "ALL",
        CounterScope::Connection(cid) => cid,
    };
    let granularity = match granularity {
        Granularity::Day => "D",
        Granularity::Hour => "H",
    };
    [
        "N#",
        pid,
        "#",
        scope,
        "#",
        granularity,
        "#",
        &shard.to_string(),
    ]
    .concat()
}

/// FNV-1a: stable across processes and releases, unlike std's hasher, and cheap.
pub fn shard_of(value: &str, shards: u32) -> u32 {
    let hash = value.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (hash % u64::from(shards)) as u32
}
