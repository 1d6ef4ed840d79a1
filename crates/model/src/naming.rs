//! The names trackses gives what it creates in a customer account: the guard allows changes
//! only to these, and a stack's callback is held to them.

/// Every name trackses gives a customer resource starts with this.
pub const PREFIX: &str = "trackses-";

/// The name of the event destination trackses adds to its configuration set.
pub const EVENT_DESTINATION: &str = "trackses";

/// Whether `name` is one trackses gives (a prefix alone names nothing).
pub fn is_ours(name: &str) -> bool {
    name.starts_with(PREFIX) && name.len() > PREFIX.len()
}

/// The name trackses gives the topic and configuration set of a connection.
pub fn resource_name(connection_id: &str) -> String {
    let short = connection_id.strip_prefix("con_").unwrap_or(connection_id);
    format!("{PREFIX}{short}")
}

pub fn topic_arn(region: &str, account_id: &str, name: &str) -> String {
    format!("arn:aws:sns:{region}:{account_id}:{name}")
}
