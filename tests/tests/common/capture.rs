//! What SNS delivers, kept by hand: a subscriber that keeps every signed body, and those bodies
//! wrapped as the Lambda event `ingest-sns` receives.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::routing::post;
use ingest::direct::SnsLambdaEvent;
use local::customer::CustomerAccount;
use serde_json::{Value, json};

use super::{eventually, serve};

/// An HTTP endpoint that subscribes like a well-behaved SNS consumer and keeps every signed
/// body SNS posts, so tests can replay, reorder and tamper with real signed messages.
pub struct Capture {
    pub url: String,
    bodies: Arc<Mutex<Vec<Bytes>>>,
}

impl Capture {
    pub async fn subscribe(customer: &CustomerAccount, topic_arn: &str) -> Capture {
        let bodies: Arc<Mutex<Vec<Bytes>>> = Arc::default();
        let kept = bodies.clone();
        let app = axum::Router::new().route(
            "/",
            post(move |body: Bytes| async move {
                kept.lock().unwrap().push(body);
            }),
        );
        let url = format!("{}/", serve(app).await);
        customer.subscribe_https(topic_arn, &url).await.unwrap();
        let capture = Capture { url, bodies };
        let confirmation = capture.next_of_type("SubscriptionConfirmation").await;
        let subscribe_url = confirmation["SubscribeURL"].as_str().unwrap().to_owned();
        reqwest::get(subscribe_url)
            .await
            .unwrap()
            .error_for_status()
            .unwrap();
        capture
    }

    pub fn take(&self) -> Vec<Bytes> {
        std::mem::take(&mut *self.bodies.lock().unwrap())
    }

    pub async fn next_of_type(&self, message_type: &str) -> Value {
        eventually(message_type, || async {
            let mut bodies = self.bodies.lock().unwrap();
            let index = bodies.iter().position(|b| {
                serde_json::from_slice::<Value>(b).unwrap()["Type"] == message_type
            })?;
            Some(serde_json::from_slice(&bodies.remove(index)).unwrap())
        })
        .await
    }

    /// Publishes each document and returns the signed envelopes SNS delivered, in order.
    pub async fn signed(
        &self,
        customer: &CustomerAccount,
        topic_arn: &str,
        documents: &[String],
    ) -> Vec<Bytes> {
        for document in documents {
            customer
                .publish_ses_event(topic_arn, document)
                .await
                .unwrap();
        }
        let want = documents.len();
        eventually("signed notifications", || async {
            let bodies = self.bodies.lock().unwrap();
            (bodies.len() >= want).then(|| bodies.clone())
        })
        .await;
        self.take()
    }
}

/// Wraps SNS HTTP envelopes into the Lambda event: same fields, Lambda's spellings.
pub fn lambda_event(bodies: &[&[u8]]) -> SnsLambdaEvent {
    let records: Vec<Value> = bodies
        .iter()
        .map(|body| {
            let mut sns: Value = serde_json::from_slice(body).unwrap();
            let object = sns.as_object_mut().unwrap();
            let cert = object.remove("SigningCertURL").unwrap();
            object.insert("SigningCertUrl".into(), cert);
            let unsubscribe = object.remove("UnsubscribeURL").unwrap_or(json!(""));
            object.insert("UnsubscribeUrl".into(), unsubscribe);
            json!({"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": "arn:aws:sns:eu-west-1:222222222222:t:1", "Sns": sns})
        })
        .collect();
    serde_json::from_value(json!({"Records": records})).unwrap()
}
