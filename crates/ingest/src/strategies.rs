//! Strategies for property tests of parsers that read what arrives from outside, and the case
//! count `make fuzz` raises: shared by this crate's property tests and `onboarding`'s.

use proptest::prelude::*;
use serde_json::Value;

pub const DEFAULT_CASES: u32 = 10_000;

/// `ProptestConfig::with_cases` overrides proptest's own reading of `PROPTEST_CASES`, so the
/// variable is read here for `make fuzz` to raise the count.
pub fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    ProptestConfig::with_cases(cases)
}

/// Up to 16 of any characters: what `any::<String>()` gives, at a fraction of its cost.
pub fn any_text() -> impl Strategy<Value = String> + Clone {
    prop::collection::vec(any::<char>(), 0..16).prop_map(String::from_iter)
}

/// Mostly one of `names`, sometimes anything: field names a parser knows, and ones it does not.
pub fn key(names: &'static [&'static str]) -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        9 => prop::sample::select(names).prop_map(str::to_owned),
        1 => "\\PC{0,8}",
    ]
}

/// Any JSON value whose object keys come from `key(names)` and whose strings from `strings`.
pub fn json(
    names: &'static [&'static str],
    strings: impl Strategy<Value = String> + Clone + 'static,
) -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        strings.prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(names), inner), 0..8)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
    .boxed()
}

/// An object with each of `names` present nine times in ten, its value from `values`: closer to
/// a real document than `json`, so that parsers get past their first checks.
pub fn fields(
    names: &'static [&'static str],
    values: impl Strategy<Value = Value> + Clone,
) -> impl Strategy<Value = Value> + Clone {
    prop::collection::vec(prop::option::weighted(0.9, values), names.len()).prop_map(
        move |values| {
            let present = names.iter().zip(values);
            Value::Object(
                present
                    .filter_map(|(name, value)| Some(((*name).to_owned(), value?)))
                    .collect(),
            )
        },
    )
}
