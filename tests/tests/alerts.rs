//! Alerts through their real entry points: rules and channels over the API, SES events
//! through the webhook, counters and evaluation in `aggregate` on the table's stream,
//! notifications through `forward`, the queues, `deliver` (webhook, Slack) and `mail` (e-mail
//! from trackses' own emulated SES account), and the scheduled `sweep`.

mod common;

use std::time::Duration;

use chrono::Utc;
use common::receiver::{Receiver, webhook_channel};
use common::ses::mail_to;
use common::*;
use local::customer::CustomerAccount;
use local::ses_traffic::{Mail, event_json};
use model::EventType;
use reqwest::Method;
use serde_json::{Value, json};

/// A project's live share-nothing connection, where its SES events are published.
struct Sender {
    customer: CustomerAccount,
    topic: String,
}

impl Sender {
    async fn connect(h: &Harness, pid: &str, key: &str) -> Sender {
        let customer = h.customer(CUSTOMER).await;
        let (topic, _, _) = h
            .live_connection(pid, key, &customer, "trackses-alerts", "2")
            .await;
        Sender { customer, topic }
    }

    /// `sends` mails, `bounces` of them bouncing for good, `complaints` complained of.
    async fn send(&self, sends: usize, bounces: usize, complaints: usize) {
        let recipients: Vec<String> = (0..sends)
            .map(|i| format!("r{i}-{}@example.com", unique("x")))
            .collect();
        let mail = Mail::new(recipients.clone(), "Hello", "alerts");
        let now = Utc::now();
        let mut documents = vec![event_json(EventType::Send, &mail, &recipients, now)];
        if bounces > 0 {
            documents.push(event_json(
                EventType::Bounce,
                &mail,
                &recipients[..bounces],
                now,
            ));
        }
        if complaints > 0 {
            documents.push(event_json(
                EventType::Complaint,
                &mail,
                &recipients[..complaints],
                now,
            ));
        }
        for document in documents {
            self.customer
                .publish_ses_event(&self.topic, &document)
                .await
                .unwrap();
        }
    }
}

/// Channels of each kind; returns (webhook receiver, Slack receiver, e-mail address, ids).
async fn channels(h: &Harness, pid: &str, key: &str) -> (Receiver, Receiver, String, Vec<String>) {
    let path = format!("/v1/projects/{pid}/alert-channels");
    let webhook = Receiver::start(0).await;
    let mut ids = vec![webhook_channel(h, pid, key, &webhook).await];
    let slack = Receiver::slack().await;
    let (status, created) = h
        .call(
            Method::POST,
            &path,
            key,
            Some(json!({"type": "slack", "url": slack.url})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert!(created.get("secret").is_none());
    ids.push(created["channel"]["id"].as_str().unwrap().to_owned());
    let address = format!("{}@ops.example.com", unique("oncall"));
    let (status, created) = h
        .call(
            Method::POST,
            &path,
            key,
            Some(json!({"type": "email", "address": address})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["channel"]["status"], "unconfirmed");
    ids.push(created["channel"]["id"].as_str().unwrap().to_owned());
    // The address gets one message; its link opens a page whose button confirms it.
    let confirmation = mail_to(&address, 1).await.remove(0);
    let link = confirmation["text"]
        .as_str()
        .unwrap()
        .lines()
        .find(|l| l.contains("token="))
        .unwrap()
        .to_owned();
    let token = link.rsplit("token=").next().unwrap().to_owned();
    let page = reqwest::get(format!(
        "{}/v1/hooks/channels/confirm?token={token}",
        h.api.base
    ))
    .await
    .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<form method=post"));
    let (_, channels) = h
        .call(
            Method::GET,
            &format!("/v1/projects/{pid}/alert-channels"),
            key,
            None,
        )
        .await;
    assert_eq!(
        channels["items"][2]["status"], "unconfirmed",
        "opening the link confirms nothing"
    );
    let shown = channels["items"][1]["url"].as_str().unwrap();
    assert!(
        shown.ends_with("/…") && !shown.contains("/hook"),
        "a Slack URL is its secret: {shown}"
    );
    assert_eq!(confirm(h, &token).await, 200);
    assert_eq!(confirm(h, &token).await, 404, "a link confirms once");
    (webhook, slack, address, ids)
}

/// The confirmation page's button, pressed: the answer's status.
async fn confirm(h: &Harness, token: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{}/v1/hooks/channels/confirm", h.api.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn alerts(h: &Harness, pid: &str, key: &str) -> Vec<Value> {
    let (status, page) = h
        .call(
            Method::GET,
            &format!("/v1/projects/{pid}/alerts"),
            key,
            None,
        )
        .await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().clone()
}

/// Waits for the project's alerts to satisfy `ready`.
async fn alerts_when(
    h: &Harness,
    pid: &str,
    key: &str,
    ready: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    for _ in 0..300 {
        let found = alerts(h, pid, key).await;
        if ready(&found) {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("alerts never got there: {:?}", alerts(h, pid, key).await);
}

#[tokio::test]
async fn a_crossed_bounce_rate_opens_one_alert_tells_each_channel_once_and_resolves_once() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let (webhook, slack, address, channel_ids) = channels(&h, &pid, &key).await;
    let (status, rule) = h
        .call(
            Method::POST,
            &format!("/v1/projects/{pid}/alert-rules"),
            &key,
            Some(json!({
                "name": "Bounces",
                "condition": {"kind": "bounce_rate", "threshold_percent": 10, "window_hours": 1, "min_sends": 10},
                "channel_ids": channel_ids,
            })),
        )
        .await;
    assert_eq!(status, 201, "{rule}");
    let sender = Sender::connect(&h, &pid, &key).await;

    // 2 of 10 bounce: 20 %, over the 10 % threshold.
    let crossed_at = Utc::now();
    sender.send(10, 2, 0).await;
    let open = alerts_when(&h, &pid, &key, |a| !a.is_empty()).await;
    let [alert] = &open[..] else {
        panic!("{open:?}")
    };
    assert_eq!(alert["rule_name"], "Bounces");
    assert_eq!(alert["subject"], "project");
    assert!(
        alert["summary"]
            .as_str()
            .unwrap()
            .starts_with("Bounce rate 20.00 %"),
        "{alert}"
    );
    assert!(alert.get("resolved_at").is_none());
    let opened = webhook.settle(1).await;
    println!(
        "alert latency: the crossing events published at {crossed_at}, the webhook had it {} ms later",
        (Utc::now() - crossed_at).num_milliseconds() - 2000
    );
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].1["type"], "alert.opened");
    assert_eq!(opened[0].1["data"]["id"], alert["id"]);
    assert_eq!(webhook.forged(), 0);
    let line = &slack.settle(1).await[0].1["text"];
    assert!(
        line.as_str()
            .unwrap()
            .starts_with("trackses alert opened: Bounces (project)"),
        "{line}"
    );
    let mails = mail_to(&address, 2).await;
    assert!(
        mails[1]["subject"]
            .as_str()
            .unwrap()
            .contains("alert opened: Bounces"),
        "{mails:?}"
    );
    assert_eq!(mails[1]["source"], "alerts@trackses.test");

    // Still over: no second alert, no second notification.
    sender.send(10, 3, 0).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(alerts(&h, &pid, &key).await.len(), 1);
    assert_eq!(webhook.accepted().len(), 1);

    // 5 of 60 (8.3 %) is under the threshold but not under its hysteresis (8 %): still open.
    sender.send(40, 0, 0).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(alerts(&h, &pid, &key).await[0].get("resolved_at").is_none());
    // 5 of 80 (6.25 %): resolved, once.
    sender.send(20, 0, 0).await;
    let resolved = alerts_when(&h, &pid, &key, |a| a[0].get("resolved_at").is_some()).await;
    assert_eq!(resolved.len(), 1);
    assert!(
        resolved[0]["resolution"]
            .as_str()
            .unwrap()
            .starts_with("Bounce rate 6.25 %"),
        "{resolved:?}"
    );
    let told = webhook.settle(2).await;
    assert_eq!(told.len(), 2);
    assert_eq!(told[1].1["type"], "alert.resolved");
    assert_ne!(
        told[0].0, told[1].0,
        "each transition has its own webhook-id"
    );
    assert_eq!(slack.settle(2).await.len(), 2);
    assert_eq!(mail_to(&address, 3).await.len(), 3);
}

#[tokio::test]
async fn a_burst_of_complaints_opens_once_and_the_sweep_resolves_a_deleted_rules_alert() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let (status, rule) = h
        .call(
            Method::POST,
            &format!("/v1/projects/{pid}/alert-rules"),
            &key,
            Some(json!({"name": "Complaints", "condition": {"kind": "burst", "of": "complaints", "count": 2, "minutes": 5}})),
        )
        .await;
    assert_eq!(status, 201, "{rule}");
    let sender = Sender::connect(&h, &pid, &key).await;
    sender.send(3, 0, 1).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        alerts(&h, &pid, &key).await.is_empty(),
        "one complaint is no burst"
    );
    sender.send(3, 0, 2).await;
    let open = alerts_when(&h, &pid, &key, |a| !a.is_empty()).await;
    assert!(
        open[0]["summary"]
            .as_str()
            .unwrap()
            .starts_with("3 complaints within the last 5 min"),
        "{open:?}"
    );

    let rid = rule["id"].as_str().unwrap();
    let path = format!("/v1/projects/{pid}/alert-rules/{rid}");
    assert_eq!(h.status(Method::DELETE, &path, &key).await, 204);
    sweep(&h, false).await;
    let resolved = alerts(&h, &pid, &key).await;
    assert_eq!(resolved[0]["resolution"], "the rule was deleted");
}

/// One run of the alerts' schedule, as its Lambda binary runs it.
async fn sweep(h: &Harness, health: bool) {
    let lambda = local::local_lambda(&h.aws, &h.api.base.parse().unwrap());
    let app = sweep::App::from_config(&h.config, &h.aws, lambda).unwrap();
    let swept = app.handle(&json!({ "health": health })).await.unwrap();
    assert_eq!(swept.failed, 0, "{swept:?}");
}

#[tokio::test]
async fn the_health_sweep_sees_a_paused_account_a_detached_identity_and_a_disabled_destination() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let setup = common::automatic::customer_with_key(&h).await;
    let (status, created) = common::automatic::connect(&h, &pid, &key, &setup).await;
    assert_eq!(status, 202, "{created}");
    let cid = created["id"].as_str().unwrap().to_owned();
    h.wait_status(&pid, &key, &cid, "active").await;
    let hello = format!("hello@{}", setup.domain);
    let path = format!("/v1/projects/{pid}/connections/{cid}");
    let (status, attached) = h
        .call(
            Method::PUT,
            &format!("{path}/identities/{hello}"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 200, "{attached}");
    let set = attached["configuration_set"].as_str().unwrap().to_owned();
    let receiver = Receiver::start(0).await;
    let channel = webhook_channel(&h, &pid, &key, &receiver).await;
    let (status, rule) = h
        .call(
            Method::POST,
            &format!("/v1/projects/{pid}/alert-rules"),
            &key,
            Some(json!({"name": "Health", "condition": {"kind": "connection_health"}, "channel_ids": [channel]})),
        )
        .await;
    assert_eq!(status, 201, "{rule}");
    let ses = &setup.customer.ses;

    sweep(&h, true).await;
    assert!(alerts(&h, &pid, &key).await.is_empty(), "healthy");

    // SES pauses the account: one alert, about the connection, naming it.
    ses.put_account_sending_attributes()
        .sending_enabled(false)
        .send()
        .await
        .unwrap();
    sweep(&h, true).await;
    sweep(&h, true).await;
    let open = alerts(&h, &pid, &key).await;
    let [paused] = &open[..] else {
        panic!("{open:?}")
    };
    assert_eq!(paused["subject"], cid.as_str());
    assert!(
        paused["summary"]
            .as_str()
            .unwrap()
            .contains("sending is disabled"),
        "{paused}"
    );
    ses.put_account_sending_attributes()
        .sending_enabled(true)
        .send()
        .await
        .unwrap();
    sweep(&h, true).await;
    assert!(alerts(&h, &pid, &key).await[0]["resolved_at"].is_string());

    // The customer detaches trackses' set from the identity it was attached to.
    ses.put_email_identity_configuration_set_attributes()
        .email_identity(&hello)
        .send()
        .await
        .unwrap();
    sweep(&h, true).await;
    let open = alerts(&h, &pid, &key).await;
    assert_eq!(open.len(), 2, "{open:?}");
    let summary = open[0]["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!(
            "{hello} no longer uses the configuration set {set}"
        )),
        "{summary}"
    );
    ses.put_email_identity_configuration_set_attributes()
        .email_identity(&hello)
        .configuration_set_name(&set)
        .send()
        .await
        .unwrap();
    sweep(&h, true).await;

    // The destination to trackses disabled.
    let destination = ses
        .get_configuration_set_event_destinations()
        .configuration_set_name(&set)
        .send()
        .await
        .unwrap()
        .event_destinations()[0]
        .clone();
    let disabled = aws_sdk_sesv2::types::EventDestinationDefinition::builder()
        .enabled(false)
        .set_matching_event_types(Some(destination.matching_event_types().to_vec()))
        .set_sns_destination(destination.sns_destination().cloned())
        .build();
    ses.update_configuration_set_event_destination()
        .configuration_set_name(&set)
        .event_destination_name(destination.name())
        .event_destination(disabled)
        .send()
        .await
        .unwrap();
    sweep(&h, true).await;
    let open = alerts(&h, &pid, &key).await;
    assert_eq!(open.len(), 3, "{open:?}");
    assert!(
        open[0]["summary"].as_str().unwrap().contains("is disabled"),
        "{open:?}"
    );
    // Each opening and resolution, once, to the channel.
    let told = receiver.settle(5).await;
    let kinds: Vec<&str> = told
        .iter()
        .map(|(_, b)| b["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "alert.opened").count(),
        3,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "alert.resolved").count(),
        2,
        "{kinds:?}"
    );
}

#[tokio::test]
async fn silence_after_a_steady_flow_opens_on_the_sweep_and_the_next_event_resolves_it() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let sender = Sender::connect(&h, &pid, &key).await;
    let (_, connections) = h
        .call(
            Method::GET,
            &format!("/v1/projects/{pid}/connections"),
            &key,
            None,
        )
        .await;
    let cid = connections["items"][0]["id"].as_str().unwrap().to_owned();
    // Three hours with events, then two without, as aggregate leaves the connection's counters.
    let mut tally = store::counters::Tally::default();
    for hours_ago in 2..5 {
        let at = store::attrs::time_string(Utc::now() - chrono::TimeDelta::hours(hours_ago));
        let key = store::counters::CounterKey {
            project_id: pid.clone(),
            scope: store::counters::ScopeId::Connection(cid.clone()),
            granularity: store::keys::Granularity::Hour,
            bucket: store::keys::Granularity::Hour.bucket(&at).to_owned(),
        };
        tally.add(key, "delivery", 40);
    }
    let window = store::counters::Window {
        shard_id: &unique("shard"),
        first_sequence_number: "1",
    };
    h.store.apply_tally(&window, &tally).await.unwrap();
    let (status, rule) = h
        .call(
            Method::POST,
            &format!("/v1/projects/{pid}/alert-rules"),
            &key,
            Some(json!({"name": "Quiet", "condition": {"kind": "silence", "quiet_hours": 2}})),
        )
        .await;
    assert_eq!(status, 201, "{rule}");
    sweep(&h, false).await;
    let open = alerts(&h, &pid, &key).await;
    let [quiet] = &open[..] else {
        panic!("{open:?}")
    };
    assert_eq!(quiet["subject"], cid.as_str());
    assert_eq!(quiet["summary"], "no events for 2 h after a steady flow");

    sender.send(1, 0, 0).await;
    counted(&h, &format!("/v1/projects/{pid}/stats"), &key, |s| {
        s["totals"]["send"] == 1
    })
    .await;
    sweep(&h, false).await;
    assert_eq!(
        alerts(&h, &pid, &key).await[0]["resolution"],
        "1 event in the last 2 h"
    );
}

#[tokio::test]
async fn another_tenant_can_neither_see_nor_change_alerts_and_bad_input_changes_nothing() {
    let h = Harness::start().await;
    let (victim, victim_key) = h.project().await;
    let (attacker, attacker_key) = h.project().await;
    let receiver = Receiver::start(0).await;
    let chid = webhook_channel(&h, &victim, &victim_key, &receiver).await;
    let (status, rule) = h
        .call(
            Method::POST,
            &format!("/v1/projects/{victim}/alert-rules"),
            &victim_key,
            Some(json!({"name": "Bounces", "condition": {"kind": "bounce_rate"}, "channel_ids": [chid]})),
        )
        .await;
    assert_eq!(status, 201, "{rule}");
    assert_eq!(
        rule["condition"]["threshold_percent"], 4.0,
        "the early level by default"
    );
    assert_eq!(rule["condition"]["window_hours"], 24);
    let rid = rule["id"].as_str().unwrap().to_owned();
    let snapshot = |pid: String, key: String| {
        let h = &h;
        async move {
            let mut seen = Vec::new();
            for list in ["alert-channels", "alert-rules", "alerts"] {
                seen.push(
                    h.call(
                        Method::GET,
                        &format!("/v1/projects/{pid}/{list}"),
                        &key,
                        None,
                    )
                    .await
                    .1,
                );
            }
            seen
        }
    };
    let before = snapshot(victim.clone(), victim_key.clone()).await;
    assert!(
        !format!("{before:?}").contains("whsec_"),
        "secrets are shown once: {before:?}"
    );

    for base in [
        format!("/v1/projects/{victim}"),
        format!("/v1/projects/{attacker}"),
    ] {
        for (method, path, body) in [
            (Method::GET, format!("{base}/alert-channels"), None),
            (Method::GET, format!("{base}/alert-rules"), None),
            (Method::GET, format!("{base}/alerts"), None),
            (
                Method::DELETE,
                format!("{base}/alert-channels/{chid}"),
                None,
            ),
            (
                Method::POST,
                format!("{base}/alert-channels/{chid}/rotate-secret"),
                None,
            ),
            (Method::DELETE, format!("{base}/alert-rules/{rid}"), None),
            (
                Method::POST,
                format!("{base}/alert-rules"),
                Some(
                    json!({"name": "x", "condition": {"kind": "connection_health"}, "channel_ids": [chid]}),
                ),
            ),
        ] {
            let (status, answer) = h.call(method.clone(), &path, &attacker_key, body).await;
            let own_list = base.contains(&attacker) && method == Method::GET;
            if own_list {
                assert_eq!(status, 200, "{path}");
                assert!(
                    !answer.to_string().contains(&chid) && !answer.to_string().contains(&rid),
                    "{answer}"
                );
            } else {
                assert!(
                    [400, 401, 403, 404].contains(&status),
                    "{method} {path}: {status} {answer}"
                );
                assert!(answer["detail"].is_string(), "{answer}");
            }
        }
    }

    let channels = format!("/v1/projects/{attacker}/alert-channels");
    for body in [
        json!({"type": "webhook", "url": "http://hooks.example.com/"}),
        json!({"type": "webhook", "url": "https://169.254.169.254/latest/"}),
        json!({"type": "slack", "url": "https://10.1.2.3/services/x"}),
        json!({"type": "email", "address": "ops@example.com\r\nBcc: everyone@example.com"}),
        json!({"type": "email", "address": "a@example.com, b@example.com"}),
        json!({"type": "email", "address": "nobody"}),
        json!({"type": "sms", "to": "+15555550100"}),
        json!({"type": "webhook", "url": "https://hooks.example.com/", "secret": "mine"}),
    ] {
        let (status, problem) = h
            .call(Method::POST, &channels, &attacker_key, Some(body.clone()))
            .await;
        assert_eq!(status, 400, "{body}: {problem}");
    }
    let rules = format!("/v1/projects/{attacker}/alert-rules");
    for condition in [
        json!({"kind": "bounce_rate", "threshold_percent": 0}),
        json!({"kind": "complaint_rate", "threshold_percent": 150}),
        json!({"kind": "bounce_rate", "window_hours": 0}),
        json!({"kind": "bounce_rate", "window_hours": 1000}),
        json!({"kind": "bounce_rate", "min_sends": 0}),
        json!({"kind": "burst", "of": "complaints", "count": 0, "minutes": 5}),
        json!({"kind": "burst", "of": "complaints", "count": 3, "minutes": 61}),
        json!({"kind": "burst", "of": "opens", "count": 3, "minutes": 5}),
        json!({"kind": "silence", "quiet_hours": 0}),
        json!({"kind": "everything"}),
    ] {
        let body = json!({"name": "x", "condition": condition});
        let (status, problem) = h
            .call(Method::POST, &rules, &attacker_key, Some(body.clone()))
            .await;
        assert_eq!(status, 400, "{body}: {problem}");
    }
    for body in [
        json!({"name": "", "condition": {"kind": "connection_health"}}),
        json!({"name": "x", "condition": {"kind": "bounce_rate"}, "scope": {"tag": "no-colon"}}),
        json!({"name": "x", "condition": {"kind": "connection_health"}, "scope": {"identity": "example.com"}}),
        json!({"name": "x", "condition": {"kind": "bounce_rate"}, "severity": "high"}),
    ] {
        let (status, problem) = h
            .call(Method::POST, &rules, &attacker_key, Some(body.clone()))
            .await;
        assert_eq!(status, 400, "{body}: {problem}");
    }
    let (status, _) = h
        .call(
            Method::POST,
            &rules,
            &attacker_key,
            Some(json!({"name": "x", "condition": {"kind": "bounce_rate"}, "scope": {"connection_id": "con_01victims"}})),
        )
        .await;
    assert_eq!(status, 404);

    // Confirmations: guessed, malformed or foreign tokens confirm nothing.
    for token in [
        "",
        "abc",
        &"0".repeat(64),
        &"g".repeat(64),
        "../../etc",
        "a&token=b",
    ] {
        assert_eq!(confirm(&h, token).await, 404, "{token}");
    }
    let (status, _) = h
        .call(
            Method::GET,
            "/v1/hooks/channels/confirm?token=%3Cscript%3E",
            "",
            None,
        )
        .await;
    assert_eq!(
        status, 404,
        "a malformed token is never written into the page"
    );
    // A read key reads and changes nothing.
    let (_, read_key) = h
        .call(
            Method::POST,
            &format!("/v1/projects/{victim}/api-keys"),
            &victim_key,
            None,
        )
        .await;
    let read_key = read_key["api_key"].as_str().unwrap();
    let (status, _) = h
        .call(
            Method::DELETE,
            &format!("/v1/projects/{victim}/alert-rules/{rid}"),
            read_key,
            None,
        )
        .await;
    assert_eq!(status, 403);

    assert_eq!(
        snapshot(victim.clone(), victim_key.clone()).await,
        before,
        "nothing of the victim's changed"
    );
    let after = snapshot(attacker, attacker_key).await;
    for list in &after[..2] {
        assert_eq!(list["items"], json!([]), "nothing was made: {list}");
    }
}
