//! Direct SNS → Lambda: the `ingest-sns` handler fed the Lambda event shape, every record.

mod common;

use chrono::Utc;
use common::*;
use local::ses_traffic::{Mail, event_json};
use model::EventType;
use serde_json::{Value, json};

#[tokio::test]
async fn every_record_is_verified_and_stored_and_a_foreign_one_is_refused() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let customer = h.customer(CUSTOMER).await;
    let topic = customer
        .create_topic(&unique("trackses-direct"), "1")
        .await
        .unwrap();
    h.proven_connection(&pid, &key, &topic).await;
    let capture = Capture::subscribe(&customer, &topic).await;
    let mail = Mail::new(vec!["ana@example.com".into()], "Direct", "d");
    let docs: Vec<String> = [EventType::Send, EventType::Delivery, EventType::Open]
        .iter()
        .map(|t| event_json(*t, &mail, &mail.recipients, Utc::now()))
        .collect();
    let signed = capture.signed(&customer, &topic, &docs).await;

    let foreign = h.customer(FOREIGN).await;
    let foreign_topic = foreign
        .create_topic(&unique("trackses-nobody"), "1")
        .await
        .unwrap();
    let foreign_capture = Capture::subscribe(&foreign, &foreign_topic).await;
    let foreign_signed = foreign_capture
        .signed(&foreign, &foreign_topic, &docs[..1])
        .await;
    let mut tampered: Value = serde_json::from_slice(&signed[2]).unwrap();
    tampered["Message"] = json!(
        tampered["Message"]
            .as_str()
            .unwrap()
            .replace("ana@", "eve@")
    );
    let tampered = serde_json::to_vec(&tampered).unwrap();

    let app = ingest_sns::App::from_config(&h.config, &h.aws);
    let event = lambda_event(&[
        &signed[0],
        &foreign_signed[0],
        &signed[1],
        &tampered,
        &signed[2],
    ]);
    let reports = app.handle(&event).await.expect("no record needs a retry");
    let reports = serde_json::to_value(&reports).unwrap();
    let accepted: Vec<bool> = reports
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"] != "refused")
        .collect();
    assert_eq!(accepted, [true, false, true, false, true]);

    let events = h
        .events(&pid, &key, &format!("message_id={}", mail.message_id))
        .await;
    let mut types: Vec<_> = events
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    types.sort();
    assert_eq!(types, ["delivery", "open", "send"]);
    assert!(events.iter().all(|e| e["recipient"] == "ana@example.com"));

    // The sample event in events/ is a real Amazon-signed record, signed long ago: a replay.
    let sample: ingest::direct::SnsLambdaEvent =
        serde_json::from_str(include_str!("../../events/ingest-sns/hello-v1.json")).unwrap();
    let reports = serde_json::to_value(app.handle(&sample).await.unwrap()).unwrap();
    assert_eq!(reports[0]["status"], "refused", "{reports}");
    assert!(
        reports[0]["reason"].as_str().unwrap().contains("replay"),
        "{reports}"
    );
}

#[tokio::test]
async fn a_storage_failure_fails_the_invocation_so_lambda_retries() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let customer = h.customer(CUSTOMER).await;
    let topic = customer
        .create_topic(&unique("trackses-retry"), "2")
        .await
        .unwrap();
    h.proven_connection(&pid, &key, &topic).await;
    let capture = Capture::subscribe(&customer, &topic).await;
    let mail = Mail::new(vec!["ana@example.com".into()], "Retry", "r");
    let signed = capture
        .signed(
            &customer,
            &topic,
            &[event_json(
                EventType::Send,
                &mail,
                &mail.recipients,
                Utc::now(),
            )],
        )
        .await;
    let mut broken = h.config.clone();
    broken.table_name = "trackses-missing-table".into();
    let app = ingest_sns::App::from_config(&broken, &h.aws);
    let failure = app.handle(&lambda_event(&[&signed[0]])).await.unwrap_err();
    assert_eq!(failure.error_type, "RecordsNotStored");
    assert!(
        failure.error_message.starts_with("1 of 1 SNS records"),
        "{}",
        failure.error_message
    );
}

#[tokio::test]
async fn the_emulated_sns_invokes_ingest_sns_for_a_lambda_subscription() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let customer = h.customer(CUSTOMER).await;
    let topic = customer
        .create_topic(&unique("trackses-lambda"), "2")
        .await
        .unwrap();
    let created = h.register_topic(&pid, &key, &topic).await;
    let proof = created["topic_proof"]["message"].as_str().unwrap();
    // The emulator delivers `lambda` subscriptions through this runner's Lambda Invoke path.
    h.subscribe_ingest_sns(&customer, &topic).await;
    // The direct path has no subscription confirmation: the owner publishes the proof.
    customer.publish_ses_event(&topic, proof).await.unwrap();
    h.wait_status(&pid, &key, created["id"].as_str().unwrap(), "active")
        .await;
    let mail = Mail::new(vec!["ana@example.com".into()], "Via Lambda", "l");
    for step in [EventType::Send, EventType::Delivery] {
        let document = event_json(step, &mail, &mail.recipients, Utc::now());
        customer.publish_ses_event(&topic, &document).await.unwrap();
    }
    let query = format!("message_id={}", mail.message_id);
    h.wait_events(&pid, &key, &query, 2).await;
}
