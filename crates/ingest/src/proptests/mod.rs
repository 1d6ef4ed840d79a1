//! Property tests of the parsers that read what arrives from outside: the SNS envelope, its
//! certificate URL and the SES notification inside it.
//! `cargo test` runs 10,000 cases of each; `make fuzz` runs a million in release.

mod cert_url;
mod envelope;
mod ses;
