//! The AWS SDK configuration every function builds once per cold start, from the environment
//! Lambda (or `make dev`) sets: region, credentials, and `AWS_ENDPOINT_URL*` overrides.
//!
//! Not `aws_config::load_defaults`: `aws-config` links STS and SSO (its assume-role, web-identity
//! and SSO providers), and the internet-facing functions must carry no credential code at all.
//! Lambda hands a function its role's credentials in environment variables and nothing else, so
//! nothing else is needed; the endpoint variables are read by the SDK's own `aws-runtime` rules.

use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use aws_runtime::env_config::EnvConfigValue;
use aws_smithy_async::rt::sleep::TokioSleep;
use aws_smithy_async::time::SystemTimeSource;
use aws_smithy_runtime::client::identity::IdentityCache;
use aws_smithy_runtime_api::client::behavior_version::BehaviorVersion;
use aws_types::SdkConfig;
use aws_types::os_shim_internal::Env;
use aws_types::region::Region;
use aws_types::sdk_config::RetryConfig;
use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};

/// The SDK configuration of this process's environment.
pub fn sdk_config() -> SdkConfig {
    let env = Env::real();
    let region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .into_iter()
        .find_map(|name| env.get(name).ok())
        .map(Region::new);
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region)
        .credentials_provider(SharedCredentialsProvider::new(EnvironmentCredentials))
        .retry_config(RetryConfig::standard())
        // What aws-config would set, and what code that builds its own clients from this
        // configuration (the assume-role provider) requires.
        .time_source(SystemTimeSource::new())
        .sleep_impl(TokioSleep::new())
        // One cache for every client built from this configuration, as aws-config sets it: a
        // credentials provider (a customer role's) resolves once until shortly before expiry,
        // not once per client.
        .identity_cache(IdentityCache::lazy().build())
        .service_config(EndpointVariables(env.clone()));
    if let Ok(url) = env.get("AWS_ENDPOINT_URL") {
        builder = builder.endpoint_url(url);
    }
    builder.build()
}

/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, read when the SDK asks
/// (its identity cache keeps them): Lambda's way of handing a function its role.
#[derive(Debug)]
struct EnvironmentCredentials;

impl EnvironmentCredentials {
    fn read() -> Result<Credentials, CredentialsError> {
        let env = Env::real();
        let var = |name: &str| env.get(name).ok().filter(|v| !v.trim().is_empty());
        let (Some(id), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY"))
        else {
            return Err(CredentialsError::not_loaded(
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set",
            ));
        };
        Ok(Credentials::new(
            id,
            secret,
            var("AWS_SESSION_TOKEN"),
            None,
            "Environment",
        ))
    }
}

impl ProvideCredentials for EnvironmentCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(Self::read())
    }
}

/// Service-specific settings (`AWS_ENDPOINT_URL_DYNAMODB`, …) from the environment only: no
/// profile files exist in Lambda.
#[derive(Debug)]
struct EndpointVariables(Env);

impl LoadServiceConfig for EndpointVariables {
    fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
        EnvConfigValue::new()
            .env(key.env())
            .service_id(key.service_id())
            .load(&self.0, None)
            .map(|(value, _)| value.into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_endpoints_follow_the_sdk_naming_rule() {
        let key = || {
            ServiceConfigKey::builder()
                .service_id("DynamoDB")
                .env("AWS_ENDPOINT_URL")
                .profile("endpoint_url")
                .build()
                .unwrap()
        };
        let both = EndpointVariables(Env::from_slice(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:2"),
        ]));
        assert_eq!(
            both.load_config(key()).as_deref(),
            Some("http://127.0.0.1:2")
        );
        let global = EndpointVariables(Env::from_slice(&[(
            "AWS_ENDPOINT_URL",
            "http://127.0.0.1:1",
        )]));
        assert_eq!(
            global.load_config(key()).as_deref(),
            Some("http://127.0.0.1:1")
        );
    }
}
