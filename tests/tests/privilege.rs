//! The privilege line, held by the crate graph: the functions that face the internet (webhook,
//! ingest-sns, stack-callback, and ingest-eventbridge, which any AWS account can reach through
//! trackses' bus; and forward and deliver, which carry events to addresses customers chose) do not link the code that opens customer credentials or acts in
//! customer accounts (KMS, STS, SES, aws-config's credential providers), whatever their code
//! says. `cargo metadata`'s resolved graph is what the release build links.

use std::collections::{BTreeSet, HashMap};
use std::process::Command;

use serde_json::Value;

const INTERNET_FACING: [&str; 6] = [
    "webhook",
    "ingest-sns",
    "stack-callback",
    "ingest-eventbridge",
    "forward",
    "deliver",
];
const CREDENTIAL_CODE: [&str; 4] = ["aws-sdk-kms", "aws-sdk-sts", "aws-sdk-sesv2", "aws-config"];

/// Every package `root` links: its normal (not dev, not build) dependencies, transitively.
fn linked(metadata: &Value, root: &str) -> BTreeSet<String> {
    let names: HashMap<&str, &str> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let nodes: HashMap<&str, &Value> = metadata["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["id"].as_str().unwrap(), n))
        .collect();
    let start = names
        .iter()
        .find(|(_, name)| **name == root)
        .map(|(id, _)| *id)
        .unwrap_or_else(|| panic!("no package {root}"));
    let mut seen = BTreeSet::new();
    let mut todo = vec![start];
    while let Some(id) = todo.pop() {
        if !seen.insert(id) {
            continue;
        }
        for dep in nodes[id]["deps"].as_array().unwrap() {
            let normal = dep["dep_kinds"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["kind"].is_null());
            if normal {
                todo.push(dep["pkg"].as_str().unwrap());
            }
        }
    }
    seen.into_iter().map(|id| names[id].to_owned()).collect()
}

fn metadata() -> Value {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn internet_facing_functions_link_no_credential_code() {
    let metadata = metadata();
    for function in INTERNET_FACING {
        let linked = linked(&metadata, function);
        for forbidden in CREDENTIAL_CODE {
            assert!(!linked.contains(forbidden), "{function} links {forbidden}");
        }
    }
}

/// The check can fail: the functions that do hold those privileges link them.
#[test]
fn the_privileged_functions_do_link_it() {
    let metadata = metadata();
    let wiring = linked(&metadata, "wiring");
    assert!(
        CREDENTIAL_CODE.iter().all(|c| wiring.contains(*c)),
        "{wiring:?}"
    );
    let api = linked(&metadata, "api");
    assert!(
        api.contains("aws-sdk-kms") && api.contains("aws-sdk-sts"),
        "{api:?}"
    );
}
