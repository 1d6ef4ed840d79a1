//! Role mode through a CloudFormation quick-create link: the link (`link`), the stack's
//! custom-resource requests (`request`), how trackses answers them (`respond`) and what it does
//! with them (`callback`).

pub mod callback;
pub mod link;
pub mod refusal;
pub mod request;
pub mod respond;

#[cfg(test)]
mod proptests;

pub use callback::{CallbackError, CallbackOutcome, StackCallback};
