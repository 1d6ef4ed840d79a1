//! What trackses sends to addresses its customers name (forwarded events, alert notifications):
//! which addresses it will reach at all, how each request is signed, and the one bounded POST
//! that reaches them. Every rule here is about the attacker who registers the address: it must
//! not become a way into trackses' own network, or a way to hold its functions.

pub mod address;
pub mod post;
pub mod signature;

pub use address::{AddressError, Reach, is_public};
pub use post::{Delivered, DeliveryFailure, Poster};
pub use signature::{SigningSecret, sign};
