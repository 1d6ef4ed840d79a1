//! The dashboard in a real browser: Debian's headless Chromium, driven over WebDriver by
//! chromedriver. A user signs in, watches an SES event arrive on the Live view without a reload,
//! opens its timeline, and reads the same numbers on the Overview as the API's `/stats`.
//! Screenshots land in `target/browser-artifacts/`.

mod chromium;
mod common;

use std::time::{Duration, Instant};

use chromium::{Browser, artifacts};
use chrono::Utc;
use common::*;
use fantoccini::Locator;
use local::customer::CustomerAccount;
use local::ses_traffic::{Mail, event_json};
use model::EventType;
use reqwest::Method;
use serde_json::{Value, json};

fn documents(mail: &Mail, steps: &[(EventType, &str)]) -> Vec<String> {
    steps
        .iter()
        .map(|(event_type, recipient)| {
            let recipients = if recipient.is_empty() {
                mail.recipients.clone()
            } else {
                vec![recipient.to_string()]
            };
            event_json(*event_type, mail, &recipients, Utc::now())
        })
        .collect()
}

async fn publish(customer: &CustomerAccount, topic: &str, documents: &[String]) {
    for document in documents {
        customer.publish_ses_event(topic, document).await.unwrap();
    }
}

/// The Live view, against the events the API already holds.
struct Live<'a> {
    h: &'a Harness,
    browser: &'a Browser,
    pid: &'a str,
    key: &'a str,
}

impl Live<'_> {
    async fn stored(&self, count: usize) {
        self.h
            .wait_events(self.pid, self.key, "limit=200", count)
            .await;
    }

    /// Once the API holds `count` events, the list must show them within 2 s, without a
    /// reload; returns the rows and how long they took after the API had them.
    async fn shown(&self, count: usize) -> (Vec<String>, Duration) {
        self.stored(count).await;
        let stored = Instant::now();
        let rows = tokio::time::timeout(
            Duration::from_secs(2),
            eventually("the live list", || async {
                let rows = self.browser.texts("#live-list li").await;
                (rows.len() == count).then_some(rows)
            }),
        )
        .await
        .expect("the Live view shows stored events within 2 s");
        let took = stored.elapsed();
        let same = self
            .browser
            .page
            .execute("return window.sameDocument === true", vec![])
            .await
            .unwrap();
        assert_eq!(same, json!(true), "the page reloaded");
        (rows, took)
    }
}

#[tokio::test]
async fn the_dashboard_shows_events_live_their_timeline_and_the_api_s_numbers() {
    let started = Instant::now();
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let customer = h.customer(CUSTOMER).await;
    let (topic, cid, webhook_url) = h
        .live_connection(&pid, &key, &customer, "trackses-browser", "2")
        .await;
    let downloads = artifacts().join(unique("downloads"));
    let browser = Browser::start(&downloads).await;
    browser
        .page
        .goto(&format!("{}/", h.api.base))
        .await
        .unwrap();

    // The key alone signs in. A key of no project is refused in words, and nothing is stored.
    browser.fill("#sign-in-key", "tsk_key0_wrong").await;
    browser.click("#sign-in-submit").await;
    browser
        .wait_text("#sign-in-error", |t| t.contains("This key is not valid"))
        .await;
    browser.fill("#sign-in-key", &key).await;
    browser.click("#sign-in-submit").await;
    browser
        .wait_text("#live-empty", |t| {
            t == "No events yet — send a test mail to success@simulator.amazonses.com"
        })
        .await;
    assert!(browser.text("#project-name").await.contains(&pid));
    assert_eq!(browser.text("#key-scope").await, "admin key");
    let url = browser.page.current_url().await.unwrap();
    assert!(!url.as_str().contains(&key) && !url.as_str().contains("tsk_"));
    browser.screenshot("live-empty").await;
    // Survives only if the page is never reloaded.
    browser
        .page
        .execute("window.sameDocument = true", vec![])
        .await
        .unwrap();

    let mail = Mail::new(
        vec!["ana@example.com".into(), "bob@example.com".into()],
        "Spring <b>sale</b>",
        "spring",
    );
    let steps = [
        (EventType::Send, ""),
        (EventType::Delivery, "ana@example.com"),
        (EventType::Bounce, "bob@example.com"),
    ];
    let live = Live {
        h: &h,
        browser: &browser,
        pid: &pid,
        key: &key,
    };
    publish(&customer, &topic, &documents(&mail, &steps)).await;
    let (rows, shown_after) = live.shown(4).await;
    // Newest first; the subject is text, not markup.
    assert!(rows[0].contains("bounce") && rows[0].contains("bob@example.com"));
    assert!(rows[0].contains("Permanent · General · smtp; 550 5.1.1 user unknown"));
    assert!(rows.iter().all(|r| r.contains("Spring <b>sale</b>")));
    assert!(browser.text("#live-empty").await.is_empty());
    browser.screenshot("live").await;

    // Type filters hide and show rows; the tail keeps running underneath.
    browser.click("#live-filters input[value=send]").await;
    assert_eq!(browser.texts("#live-list li").await.len(), 2);
    browser.click("#live-filters button").await;
    assert_eq!(browser.texts("#live-list li").await.len(), 4);

    // Paused, a new event waits; resumed, it arrives.
    browser.click("#live-toggle").await;
    browser
        .wait_text("#live-state", |t| t.starts_with("Paused"))
        .await;
    let later = Mail::new(vec!["carla@example.com".into()], "Later", "spring");
    let steps = [
        (EventType::Send, ""),
        (EventType::Delivery, ""),
        (EventType::Open, ""),
    ];
    publish(&customer, &topic, &documents(&later, &steps)).await;
    live.stored(7).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(browser.texts("#live-list li").await.len(), 4);
    browser.click("#live-toggle").await;
    let (rows, _) = live.shown(7).await;
    assert!(rows[0].contains("open") && rows[0].contains("carla@example.com"));

    browser
        .click("#live-list li[data-type=bounce] .open a")
        .await;
    let bob = "#message-result section[data-recipient='bob@example.com']";
    browser.wait_text(bob, |t| t.contains("bounced")).await;
    let ana = "#message-result section[data-recipient='ana@example.com']";
    assert_eq!(
        browser.texts(&format!("{ana} .step .badge")).await,
        ["send", "delivery"]
    );
    assert!(browser.text(ana).await.contains("delivered"));
    assert_eq!(
        browser.texts(&format!("{bob} .step .badge")).await,
        ["send", "bounce"]
    );
    let bounce = browser
        .text(&format!("{bob} .step[data-type=bounce]"))
        .await;
    for shown in [
        "Bounce type\nPermanent",
        "Sub-type\nGeneral",
        "Diagnostic code\nsmtp; 550 5.1.1 user unknown",
    ] {
        assert!(bounce.contains(shown), "{shown:?} not in {bounce:?}");
    }
    assert_eq!(
        browser.text("#message-result h2").await,
        "Spring <b>sale</b>"
    );
    browser.screenshot("message").await;

    browser.click("#nav a[href='#overview']").await;
    browser
        .wait_text("#overview-totals [data-type=send] .total-value", |t| {
            t == "3"
        })
        .await;
    let (status, stats) = h
        .call(
            Method::GET,
            &format!("/v1/projects/{pid}/stats?granularity=hour"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 200, "{stats}");
    let totals = stats["totals"].as_object().unwrap();
    assert_eq!(totals["bounce"], 1);
    for (event_type, count) in totals {
        let shown = browser
            .text(&format!(
                "#overview-totals [data-type={event_type}] .total-value"
            ))
            .await;
        assert_eq!(shown, count.to_string(), "{event_type}");
    }
    let percent = |rate: &Value, digits| format!("{:.*} %", digits, rate.as_f64().unwrap() * 100.0);
    assert_eq!(
        browser.text("[data-rate=bounce] .gauge-value").await,
        percent(&stats["rates"]["bounce"], 2)
    );
    assert_eq!(
        browser.text("[data-rate=complaint] .gauge-value").await,
        percent(&stats["rates"]["complaint"], 3)
    );
    assert_eq!(stats["status"]["bounce"], "at_risk");
    assert!(
        browser
            .text("#overview-banner [role=alert]")
            .await
            .starts_with("Sending at risk\nBounce rate 33.33 % is at risk")
    );
    browser.screenshot("overview").await;

    browser.click("#nav a[href='#suppressions']").await;
    let suppressed = browser
        .wait_text("#suppressions-body tr", |t| !t.is_empty())
        .await;
    assert!(
        suppressed.contains("bob@example.com") && suppressed.contains("bounce"),
        "{suppressed:?}"
    );
    browser.click("#suppressions-export").await;
    let csv = eventually("the CSV download", || async {
        let file = std::fs::read_dir(&downloads)
            .ok()?
            .flatten()
            .find(|f| f.file_name().to_string_lossy().ends_with(".csv"))?;
        std::fs::read_to_string(file.path()).ok()
    })
    .await;
    assert_eq!(
        csv,
        format!(
            "recipient,reason,last_event_at,ses_message_id\r\nbob@example.com,bounce,{},{}\r\n",
            h.call(
                Method::GET,
                &format!("/v1/projects/{pid}/suppressions"),
                &key,
                None
            )
            .await
            .1["items"][0]["last_event_at"]
                .as_str()
                .unwrap(),
            mail.message_id
        )
    );
    browser.screenshot("suppressions").await;

    // An account connected through EventBridge, whose sending was just paused.
    let paused_account = fresh_account("8200");
    let set = format!("trackses-{}", model::ids::random_hex(8));
    let eventbridge_cid = eventbridge_connection(&h, &pid, &paused_account, &set).await;
    let paused = include_str!("../../events/eventbridge/sending-status-disabled.json")
        .replace("210987654321", &paused_account);
    let batch = serde_json::json!({"Records": [{"messageId": "m-1", "body": paused}]});
    h.invoke_ingest_eventbridge(batch.to_string()).await;

    browser.click("#nav a[href='#connections']").await;
    let eventbridge_card = format!("article[data-connection='{eventbridge_cid}']");
    let signal = browser
        .wait_text(
            &format!("{eventbridge_card} [data-signal='sending']"),
            |t| t.starts_with("Sending paused since"),
        )
        .await;
    assert!(
        !signal.contains("undefined") && !signal.contains("[object"),
        "{signal}"
    );
    let eventbridge_shown = browser.text(&format!("{eventbridge_card} dl")).await;
    assert!(
        eventbridge_shown.contains("EventBridge"),
        "{eventbridge_shown}"
    );
    let card = format!("article[data-connection='{cid}']");
    browser
        .wait_text(&format!("{card} h2"), |t| t.ends_with("active"))
        .await;
    let shown_url = browser
        .page
        .find(Locator::Css(&format!("{card} input")))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(shown_url.as_deref(), Some(webhook_url.as_str()));
    // Whatever this deployment answers (a result, or a problem such as 404/501), the user reads
    // words, and the page goes on working.
    browser
        .click(&format!("{card} .actions button:first-child"))
        .await;
    let verified = browser
        .wait_text(&format!("{card} .connection-out"), |t| {
            !t.is_empty() && !t.contains("Verifying")
        })
        .await;
    assert!(
        verified.starts_with("Verified")
            || verified.starts_with("Not verified")
            || verified.starts_with("Verify failed: "),
        "{verified:?}"
    );
    assert!(!verified.contains("undefined") && !verified.contains("[object"));
    browser.screenshot("connections").await;
    // Role mode: the quick-create link for the chosen region, ready to open.
    browser
        .page
        .find(Locator::Css("#role-region"))
        .await
        .unwrap()
        .select_by_value("ap-southeast-5")
        .await
        .unwrap();
    browser.click("#role-submit").await;
    browser
        .wait_text("#role-result", |t| t.contains("Open AWS CloudFormation"))
        .await;
    let href = browser
        .page
        .find(Locator::Css("#role-result a"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        href.starts_with("https://ap-southeast-5.console.aws.amazon.com/cloudformation/home?region=ap-southeast-5#/stacks/create/review?templateURL=https%3A%2F%2F"),
        "{href}"
    );
    let shown = browser.text("#role-result dl").await;
    assert!(
        shown.contains("ap-southeast-5") && shown.contains("trackses-"),
        "{shown}"
    );
    browser.screenshot("connections-role-link").await;

    // Endpoints: one added on the page shows its secret once; the list never shows it; pausing
    // shows on the card.
    let receiver = common::receiver::Receiver::start(0).await;
    browser.click("#nav a[href='#endpoints']").await;
    browser.fill("#endpoint-url", &receiver.url).await;
    browser.click("#endpoint-types input[value='bounce']").await;
    browser.click("#endpoint-submit").await;
    let secret = browser
        .wait_text("#endpoint-result [data-secret] .mono", |t| {
            t.starts_with("whsec_")
        })
        .await;
    receiver.trust(&secret);
    let endpoint_card = "#endpoints-list article[data-endpoint]";
    let listed = browser
        .wait_text(&format!("{endpoint_card} h2"), |t| {
            t.contains(&receiver.url)
        })
        .await;
    assert!(listed.ends_with("active"), "{listed}");
    assert!(!browser.text("#endpoints-list").await.contains(&secret));
    browser
        .wait_text(&format!("{endpoint_card} .muted"), |t| {
            t.starts_with("No dead letters")
        })
        .await;
    browser.screenshot("endpoints").await;
    browser
        .click(&format!("{endpoint_card} .actions button:first-child"))
        .await;
    browser
        .wait_text("#endpoints-list article[data-state='paused'] dl", |t| {
            t.contains("Paused since")
        })
        .await;

    // Alerts: a webhook channel and a burst rule added on the page; a bounce opens an alert the
    // page lists, and the channel is told.
    let told = common::receiver::Receiver::start(0).await;
    browser.click("#nav a[href='#alerts']").await;
    browser
        .wait_text("#alerts-empty", |t| t.starts_with("No alerts"))
        .await;
    browser.fill("#channel-target", &told.url).await;
    browser.click("#channel-submit").await;
    let channel_secret = browser
        .wait_text("#channel-result [data-secret] .mono", |t| {
            t.starts_with("whsec_")
        })
        .await;
    told.trust(&channel_secret);
    browser.fill("#rule-name", "Bounce burst").await;
    browser
        .page
        .find(Locator::Css("#rule-kind"))
        .await
        .unwrap()
        .select_by_value("burst:bounces")
        .await
        .unwrap();
    browser.fill("#rule-count", "1").await;
    browser.fill("#rule-minutes", "5").await;
    browser.click("#rule-channels input").await;
    browser.click("#rule-submit").await;
    browser
        .wait_text("#rules-list tr[data-rule]", |t| {
            t.contains("1 permanent bounce within 5 min")
        })
        .await;
    let mail = Mail::new(vec!["dora@example.com".into()], "Later", "spring");
    publish(
        &customer,
        &topic,
        &documents(&mail, &[(EventType::Bounce, "")]),
    )
    .await;
    let opened = eventually("an open alert on the page", || async {
        // Scrolled down to the rule form, the button sits under the sticky header: a click
        // from the script, as a user would after scrolling back.
        browser
            .page
            .execute("document.getElementById('alerts-refresh').click()", vec![])
            .await
            .unwrap();
        let text = browser.text("#alerts-list li[data-state='open']").await;
        text.contains("Bounce burst").then_some(text)
    })
    .await;
    assert!(
        opened.contains("permanent bounces within the last 5 min"),
        "{opened}"
    );
    assert_eq!(told.settle(1).await[0].1["type"], "alert.opened");
    browser.screenshot("alerts").await;

    browser.page.set_window_size(390, 844).await.unwrap();
    browser.click("#nav a[href='#live']").await;
    // Newest first: the bounce that opened the alert.
    browser
        .wait_text("#live-list li", |t| t.contains("dora@example.com"))
        .await;
    browser.screenshot("live-phone").await;

    browser.page.clone().close().await.unwrap();
    let _ = std::fs::remove_dir_all(&downloads);

    // The dashboard stays within the documented contract: every request the instance served
    // (the page's, SNS's deliveries, this test's own) is an operation of GET /openapi.json.
    let document = common::contract::document(&h).await;
    let served = h.requests.lock().unwrap().clone();
    let dashboard_calls = served
        .iter()
        .filter(|(_, p)| p.starts_with("/v1/projects/"));
    assert!(dashboard_calls.count() > 10, "{served:?}");
    // The test's own calls of the local Lambda Invoke API are no part of the dashboard's.
    for (method, path) in served
        .iter()
        .filter(|(_, p)| !p.starts_with("/2015-03-31/functions/"))
    {
        assert!(
            common::contract::documented(&document, method, path),
            "{method} {path} is not in the OpenAPI document"
        );
    }
    eprintln!(
        "browser test: events shown {shown_after:?} after the API had them; {:?} in all",
        started.elapsed()
    );
}
