//! The deployment's admin token, which alone may create projects.

/// The admin token: the one configured directly (local runs), else the SecureString parameter's
/// value. `None` disables project creation.
pub async fn load(
    config: &runtime::Config,
    aws: &aws_types::SdkConfig,
) -> Result<Option<String>, runtime::ConfigError> {
    if let Some(token) = &config.admin_token {
        return Ok(Some(token.clone()));
    }
    let Some(name) = &config.admin_token_parameter else {
        return Ok(None);
    };
    let output = aws_sdk_ssm::Client::new(aws)
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| {
            runtime::ConfigError::Invalid(
                "TRACKSES_ADMIN_TOKEN_PARAMETER",
                format!(
                    "the parameter could not be read: {}",
                    aws_sdk_ssm::error::DisplayErrorContext(&e)
                ),
            )
        })?;
    Ok(output.parameter.and_then(|p| p.value))
}
