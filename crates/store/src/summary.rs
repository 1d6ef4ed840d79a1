//! Sending health from counters: totals, a series, rates, and status against the thresholds at
//! which AWS reviews (5 % bounces, 0.1 % complaints) and may pause (10 %, 0.5 %) an account.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::counters::PERMANENT_BOUNCE_COUNTER;
use crate::stats::Buckets;
use model::EventType;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = RateHealth))]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Ok,
    Warning,
    AtRisk,
}

impl Health {
    fn of(rate: f64, warning: f64, at_risk: f64) -> Health {
        if rate >= at_risk {
            Health::AtRisk
        } else if rate >= warning {
            Health::Warning
        } else {
            Health::Ok
        }
    }
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rates {
    pub delivery: f64,
    /// Permanent bounces only, as AWS counts them.
    pub bounce: f64,
    pub complaint: f64,
    pub open: f64,
    pub click: f64,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = RateStatus))]
pub struct Status {
    pub bounce: Health,
    pub complaint: Health,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Summary {
    pub totals: BTreeMap<&'static str, u64>,
    pub series: Vec<BTreeMap<String, serde_json::Value>>,
    pub rates: Rates,
    pub status: Status,
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

pub fn summarize(buckets: &Buckets) -> Summary {
    let count = |counts: &BTreeMap<String, u64>, name: &str| counts.get(name).copied().unwrap_or(0);
    let mut totals: BTreeMap<&'static str, u64> =
        EventType::ALL.iter().map(|t| (t.as_str(), 0)).collect();
    let mut permanent = 0;
    let mut series = Vec::with_capacity(buckets.len());
    for (bucket, counts) in buckets {
        let mut point =
            BTreeMap::from([("t".to_owned(), serde_json::Value::from(bucket.as_str()))]);
        for (name, total) in totals.iter_mut() {
            let n = count(counts, name);
            *total += n;
            point.insert((*name).to_owned(), n.into());
        }
        permanent += count(counts, PERMANENT_BOUNCE_COUNTER);
        series.push(point);
    }
    let of = |t: EventType| totals[t.as_str()];
    let (sent, delivered) = (of(EventType::Send), of(EventType::Delivery));
    let rates = Rates {
        delivery: ratio(delivered, sent),
        bounce: ratio(permanent, sent),
        complaint: ratio(of(EventType::Complaint), sent),
        open: ratio(of(EventType::Open), delivered),
        click: ratio(of(EventType::Click), delivered),
    };
    let status = Status {
        bounce: Health::of(rates.bounce, 0.05, 0.10),
        complaint: Health::of(rates.complaint, 0.001, 0.005),
    };
    Summary {
        totals,
        series,
        rates,
        status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buckets(entries: &[(&str, &[(&str, u64)])]) -> Buckets {
        entries
            .iter()
            .map(|(b, counts)| {
                (
                    b.to_string(),
                    counts.iter().map(|(n, c)| (n.to_string(), *c)).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn sums_buckets_and_counts_only_permanent_bounces() {
        let summary = summarize(&buckets(&[
            (
                "2026-11-01",
                &[
                    ("send", 100),
                    ("delivery", 90),
                    ("bounce", 8),
                    ("bounce_permanent", 4),
                    ("open", 45),
                ],
            ),
            (
                "2026-11-02",
                &[("send", 100), ("delivery", 100), ("click", 10)],
            ),
        ]));
        assert_eq!(summary.totals["send"], 200);
        assert_eq!(summary.totals["bounce"], 8);
        assert_eq!(summary.series.len(), 2);
        assert_eq!(summary.series[1]["click"], 10);
        assert!(
            (summary.rates.bounce - 0.02).abs() < 1e-9,
            "4 permanent of 200 sent"
        );
        assert!((summary.rates.open - 45.0 / 190.0).abs() < 1e-9);
        assert_eq!(summary.status.bounce, Health::Ok);
    }

    #[test]
    fn thresholds_are_aws_review_and_pause_levels() {
        let at = |permanent: u64, complaints: u64| {
            summarize(&buckets(&[(
                "d",
                &[
                    ("send", 1000),
                    ("bounce_permanent", permanent),
                    ("complaint", complaints),
                ],
            )]))
            .status
        };
        assert_eq!(at(49, 0).bounce, Health::Ok);
        assert_eq!(at(50, 0).bounce, Health::Warning);
        assert_eq!(at(100, 0).bounce, Health::AtRisk);
        assert_eq!(at(0, 0).complaint, Health::Ok);
        assert_eq!(at(0, 1).complaint, Health::Warning);
        assert_eq!(at(0, 5).complaint, Health::AtRisk);
        assert_eq!(
            summarize(&Buckets::new()).rates.delivery,
            0.0,
            "no traffic is not a division by zero"
        );
    }
}
