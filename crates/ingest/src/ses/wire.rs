//! SES's JSON as it arrives. Every field is optional so that a missing field becomes a clear
//! `SesError` from our own checks instead of a serde message; unknown fields are ignored because
//! SES adds fields over time.

use serde::Deserialize;
use serde_json::Value;

use model::event::Tags;

/// One SES document: event publishing (`eventType`) or identity notification (`notificationType`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Document {
    pub event_type: Option<String>,
    pub notification_type: Option<String>,
    pub mail: Option<Mail>,
    pub bounce: Option<Bounce>,
    pub complaint: Option<Complaint>,
    pub delivery: Option<Delivery>,
    pub open: Option<Open>,
    pub click: Option<Click>,
    pub reject: Option<Reject>,
    /// `Rendering Failure` events.
    pub failure: Option<Failure>,
    pub delivery_delay: Option<DeliveryDelay>,
    pub subscription: Option<Subscription>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Mail {
    pub timestamp: Option<String>,
    pub message_id: Option<String>,
    pub source: Option<String>,
    pub sending_account_id: Option<String>,
    pub destination: Option<Vec<String>>,
    pub common_headers: Option<CommonHeaders>,
    /// Absent in identity notifications.
    pub tags: Option<Tags>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CommonHeaders {
    pub subject: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Bounce {
    pub bounce_type: Option<String>,
    pub bounce_sub_type: Option<String>,
    pub bounced_recipients: Option<Vec<BouncedRecipient>>,
    pub timestamp: Option<String>,
    pub feedback_id: Option<String>,
    #[serde(rename = "reportingMTA")]
    pub reporting_mta: Option<String>,
    pub remote_mta_ip: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct BouncedRecipient {
    pub email_address: Option<String>,
    pub action: Option<String>,
    pub status: Option<String>,
    pub diagnostic_code: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Complaint {
    pub complained_recipients: Option<Vec<AddressOnly>>,
    pub timestamp: Option<String>,
    pub feedback_id: Option<String>,
    pub complaint_sub_type: Option<String>,
    pub complaint_feedback_type: Option<String>,
    pub user_agent: Option<String>,
    pub arrival_date: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct AddressOnly {
    pub email_address: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Delivery {
    pub timestamp: Option<String>,
    pub processing_time_millis: Option<u64>,
    pub recipients: Option<Vec<String>>,
    pub smtp_response: Option<String>,
    #[serde(rename = "reportingMTA")]
    pub reporting_mta: Option<String>,
    pub remote_mta_ip: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Open {
    pub timestamp: Option<String>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Click {
    pub timestamp: Option<String>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub link: Option<String>,
    pub link_tags: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Reject {
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Failure {
    pub template_name: Option<String>,
    pub error_message: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DeliveryDelay {
    pub timestamp: Option<String>,
    pub delay_type: Option<String>,
    pub delayed_recipients: Option<Vec<DelayedRecipient>>,
    pub expiration_time: Option<String>,
    #[serde(rename = "reportingMTA")]
    pub reporting_mta: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DelayedRecipient {
    pub email_address: Option<String>,
    pub status: Option<String>,
    pub diagnostic_code: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Subscription {
    pub timestamp: Option<String>,
    pub contact_list: Option<String>,
    pub source: Option<String>,
    pub new_topic_preferences: Option<Value>,
    pub old_topic_preferences: Option<Value>,
}
