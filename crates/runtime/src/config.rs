//! Settings, read once per cold start from the environment the template (or `make dev`) sets.

use std::path::PathBuf;
use std::time::Duration;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} must be set")]
    Missing(&'static str),
    #[error("environment variable {0} is invalid: {1}")]
    Invalid(&'static str, String),
}

#[derive(Clone)]
pub struct Config {
    pub table_name: String,
    pub retention_days: u32,
    /// Pinned SNS signing certificates, by file name (tests, the emulator, offline runs).
    pub sns_cert_dir: Option<PathBuf>,
    /// The SDK's own SNS endpoint override; the only other host trusted for SubscribeURL.
    pub sns_endpoint: Option<Url>,
    /// `AWS_ENDPOINT_URL` (the emulator): besides S3, the only host a stack's answer goes to.
    pub aws_endpoint: Option<Url>,
    /// Only the API needs it (project creation); deployed, it comes from `admin_token_parameter`.
    pub admin_token: Option<String>,
    /// The SSM Parameter Store SecureString holding the admin token, read once per cold start:
    /// not a plaintext environment variable anyone who can read the function's configuration sees.
    pub admin_token_parameter: Option<String>,
    /// The deployment's public base URL (the API; required wherever a webhook URL is made:
    /// never taken from a request's Host header, which the client chooses).
    pub public_url: Option<Url>,
    /// Where SNS delivers when it is not under `public_url`: the webhook's Lambda function URL,
    /// which has no per-request charge.
    pub webhook_url: Option<Url>,
    /// The KMS key customer credentials are sealed under (automatic mode).
    pub kms_key_id: Option<String>,
    /// The function the API hands customer-account work to (automatic and role mode).
    pub wiring_function: Option<String>,
    /// trackses' own AWS account: the one customer roles trust.
    pub account_id: Option<String>,
    /// Where the deployment publishes `cloudformation/customer-role.yaml` (an S3 HTTPS URL).
    pub role_template_url: Option<Url>,
    /// The name of trackses' SNS topic, in each region, that customer stacks report to.
    pub callback_topic: String,
    /// trackses' event bus (eventbridge-ingest.yaml's), which role-mode stacks' rules forward
    /// their account's SES events to.
    pub event_bus_arn: Option<String>,
    /// The queue forwarding jobs go through (template.yaml's `DeliveriesQueue`).
    pub deliveries_queue_url: Option<String>,
    /// The queue alert e-mails go through (template.yaml's `MailQueue`).
    pub mail_queue_url: Option<String>,
    /// The address alert e-mails come from: an identity of trackses' own SES account.
    pub alert_sender: Option<String>,
    /// Whether forwarding may also reach this machine's loopback over http: `make dev` and the
    /// tests, whose receivers listen there. The template never sets it.
    pub endpoints_on_loopback: bool,
    /// How long `aggregate` keeps a project's alert rules before reading them again: a new
    /// rule counts events from at most this much later. 30 s unless set.
    pub alert_rules_fresh_for: Duration,
    /// A failed delivery's first wait (doubling from there); 30 s unless set.
    pub forward_first_retry: Duration,
    /// How long a delivery is retried before it becomes a dead letter; a day unless set.
    pub forward_give_up_after: Duration,
}

// Deliberately not Debug-derived: the admin token must never reach a log line.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("table_name", &self.table_name)
            .field("retention_days", &self.retention_days)
            .field("sns_cert_dir", &self.sns_cert_dir)
            .field("sns_endpoint", &self.sns_endpoint)
            .field("aws_endpoint", &self.aws_endpoint)
            .field("admin_token", &self.admin_token.as_ref().map(|_| "<set>"))
            .field("admin_token_parameter", &self.admin_token_parameter)
            .field("public_url", &self.public_url)
            .field("webhook_url", &self.webhook_url)
            .field("kms_key_id", &self.kms_key_id)
            .field("wiring_function", &self.wiring_function)
            .field("account_id", &self.account_id)
            .field("role_template_url", &self.role_template_url)
            .field("callback_topic", &self.callback_topic)
            .field("event_bus_arn", &self.event_bus_arn)
            .field("deliveries_queue_url", &self.deliveries_queue_url)
            .field("endpoints_on_loopback", &self.endpoints_on_loopback)
            .field("mail_queue_url", &self.mail_queue_url)
            .field("alert_sender", &self.alert_sender)
            .field("alert_rules_fresh_for", &self.alert_rules_fresh_for)
            .field("forward_first_retry", &self.forward_first_retry)
            .field("forward_give_up_after", &self.forward_give_up_after)
            .finish()
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn seconds_var(name: &'static str, default: u64) -> Result<Duration, ConfigError> {
    match var(name) {
        None => Ok(Duration::from_secs(default)),
        Some(v) => v
            .parse()
            .ok()
            .filter(|s| *s > 0)
            .map(Duration::from_secs)
            .ok_or_else(|| ConfigError::Invalid(name, "a whole number of seconds".into())),
    }
}

fn url_var(name: &'static str) -> Result<Option<Url>, ConfigError> {
    var(name)
        .map(|v| Url::parse(&v).map_err(|e| ConfigError::Invalid(name, e.to_string())))
        .transpose()
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        let retention_days = match var("TRACKSES_RETENTION_DAYS") {
            None => 90,
            Some(v) => v
                .parse()
                .ok()
                .filter(|d| (1..=3650).contains(d))
                .ok_or_else(|| {
                    ConfigError::Invalid("TRACKSES_RETENTION_DAYS", "1..=3650 days".into())
                })?,
        };
        let aws_endpoint = url_var("AWS_ENDPOINT_URL")?;
        let sns_endpoint = match url_var("AWS_ENDPOINT_URL_SNS")? {
            Some(url) => Some(url),
            None => aws_endpoint.clone(),
        };
        Ok(Config {
            table_name: var("TRACKSES_TABLE").ok_or(ConfigError::Missing("TRACKSES_TABLE"))?,
            retention_days,
            sns_cert_dir: var("TRACKSES_SNS_CERT_DIR").map(PathBuf::from),
            sns_endpoint,
            aws_endpoint,
            admin_token: var("TRACKSES_ADMIN_TOKEN"),
            admin_token_parameter: var("TRACKSES_ADMIN_TOKEN_PARAMETER"),
            public_url: url_var("TRACKSES_PUBLIC_URL")?,
            webhook_url: url_var("TRACKSES_WEBHOOK_URL")?,
            kms_key_id: var("TRACKSES_KMS_KEY_ID"),
            wiring_function: var("TRACKSES_WIRING_FUNCTION"),
            account_id: var("TRACKSES_ACCOUNT_ID"),
            role_template_url: url_var("TRACKSES_ROLE_TEMPLATE_URL")?,
            callback_topic: var("TRACKSES_CALLBACK_TOPIC")
                .unwrap_or_else(|| "trackses-cfn-callback".to_owned()),
            event_bus_arn: var("TRACKSES_EVENT_BUS_ARN"),
            deliveries_queue_url: var("TRACKSES_DELIVERIES_QUEUE_URL"),
            endpoints_on_loopback: var("TRACKSES_ENDPOINTS_ON_LOOPBACK").as_deref() == Some("1"),
            mail_queue_url: var("TRACKSES_MAIL_QUEUE_URL"),
            alert_sender: var("TRACKSES_ALERT_SENDER"),
            alert_rules_fresh_for: seconds_var("TRACKSES_ALERT_RULES_FRESH_SECONDS", 30)?,
            forward_first_retry: seconds_var("TRACKSES_FORWARD_FIRST_RETRY_SECONDS", 30)?,
            forward_give_up_after: seconds_var("TRACKSES_FORWARD_GIVE_UP_SECONDS", 24 * 3600)?,
        })
    }

    /// The deployment's public base URL, which the functions that make webhook URLs need.
    pub fn require_public_url(&self) -> Result<Url, ConfigError> {
        self.public_url
            .clone()
            .ok_or(ConfigError::Missing("TRACKSES_PUBLIC_URL"))
    }

    /// The bases webhook URLs are made under: where new subscriptions go (the function URL when
    /// there is one), and the public URL when it differs, under which earlier ones were made and
    /// still deliver.
    pub fn webhook_bases(&self) -> Result<WebhookBases, ConfigError> {
        let public = self.require_public_url()?;
        Ok(match &self.webhook_url {
            Some(current) if *current != public => WebhookBases {
                current: current.clone(),
                earlier: Some(public),
            },
            _ => WebhookBases {
                current: public,
                earlier: None,
            },
        })
    }
}

/// Where SNS delivers: new subscriptions under `current`; those made before the webhook had its
/// own URL under `earlier`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookBases {
    pub current: Url,
    pub earlier: Option<Url>,
}

/// The AWS SDK's parts whose debug lines print request identities, customer access key ids
/// among them: they log at info, whatever `RUST_LOG` says.
const AT_INFO: [&str; 4] = [
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_config",
    "aws_sdk_sts",
];

/// `RUST_LOG` (`level` and `target=level` directives, comma-separated), else `default`; the SDK's
/// runtime at info. A plain target filter, not `EnvFilter`: that one links a regex engine into
/// every function for span-field filters trackses never uses.
pub fn log_filter(default: LevelFilter) -> Targets {
    filter_of(std::env::var("RUST_LOG").ok().as_deref(), default)
}

fn filter_of(directives: Option<&str>, default: LevelFilter) -> Targets {
    let asked = directives
        .and_then(|directives| directives.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(default));
    let kept = asked
        .iter()
        .filter(|(target, _)| !AT_INFO.contains(target))
        .map(|(target, level)| (target.to_owned(), level))
        .collect::<Vec<_>>();
    let filter = Targets::new().with_default(asked.default_level().unwrap_or(default));
    kept.into_iter()
        .chain(AT_INFO.map(|target| (target.to_owned(), LevelFilter::INFO)))
        .fold(filter, |filter, (target, level)| {
            filter.with_target(target, level)
        })
}

/// JSON logs in Lambda (CloudWatch parses them), plain text on a terminal. In Lambda each line
/// carries the invocation's span (the runtime's, with its `requestId` and `xrayTraceId`).
pub fn init_tracing() {
    let filter = log_filter(LevelFilter::INFO);
    if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some() {
        tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .without_time()
            .finish()
            .with(filter)
            .init();
    } else {
        tracing_subscriber::fmt().finish().with(filter).init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    fn config(public: Option<&str>, webhook: Option<&str>) -> Config {
        Config {
            table_name: "t".into(),
            retention_days: 1,
            sns_cert_dir: None,
            sns_endpoint: None,
            aws_endpoint: None,
            admin_token: None,
            admin_token_parameter: None,
            public_url: public.map(|u| u.parse().unwrap()),
            webhook_url: webhook.map(|u| u.parse().unwrap()),
            kms_key_id: None,
            wiring_function: None,
            account_id: None,
            role_template_url: None,
            callback_topic: "c".into(),
            event_bus_arn: None,
            deliveries_queue_url: None,
            endpoints_on_loopback: false,
            mail_queue_url: None,
            alert_sender: None,
            alert_rules_fresh_for: Duration::from_secs(30),
            forward_first_retry: Duration::from_secs(30),
            forward_give_up_after: Duration::from_secs(60),
        }
    }

    #[test]
    fn new_subscriptions_go_to_the_function_url_and_earlier_ones_stay_valid() {
        let api = "https://api.example/";
        let function = "https://abc.lambda-url.eu-west-1.on.aws/";
        let both = config(Some(api), Some(function)).webhook_bases().unwrap();
        assert_eq!(both.current.as_str(), function);
        assert_eq!(both.earlier.unwrap().as_str(), api);
        for alone in [config(Some(api), None), config(Some(api), Some(api))] {
            let bases = alone.webhook_bases().unwrap();
            assert_eq!((bases.current.as_str(), bases.earlier), (api, None));
        }
        assert!(config(None, Some(function)).webhook_bases().is_err());
    }

    /// What `RUST_LOG` asks, except that the SDK's runtime never logs below info (its debug
    /// lines name customer access key ids); directives it cannot read leave the default.
    #[test]
    fn the_sdk_runtime_logs_at_info_whatever_rust_log_asks() {
        let asked = Some("debug,aws_smithy_runtime=trace,ingest=trace");
        let filter = filter_of(asked, LevelFilter::WARN);
        assert!(filter.would_enable("ingest::pipeline", &Level::TRACE));
        assert!(filter.would_enable("store", &Level::DEBUG));
        assert!(!filter.would_enable("store", &Level::TRACE));
        for target in AT_INFO {
            assert!(filter.would_enable(target, &Level::INFO), "{target}");
            assert!(!filter.would_enable(target, &Level::DEBUG), "{target}");
        }
        let unread = filter_of(Some("[span{field=1}]=debug"), LevelFilter::WARN);
        assert!(unread.would_enable("store", &Level::WARN));
        assert!(!unread.would_enable("store", &Level::INFO));
        let default = filter_of(None, LevelFilter::DEBUG);
        assert!(!default.would_enable("aws_config", &Level::DEBUG));
    }
}
