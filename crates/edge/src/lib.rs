//! The HTTP edge every function's router shares: the one error mapping (`problem`), bearer
//! authentication (`auth`), and the problem+json fallbacks (`finish`).

pub mod auth;
pub mod problem;

use axum::Router;

pub use problem::Problem;

/// The routes of the two hooks, served by their own functions (`webhook`, `stack-callback`) and
/// described in the API's OpenAPI document from these same constants.
pub mod hooks {
    /// SNS HTTPS deliveries for one connection.
    pub const SNS: &str = "/v1/hooks/sns/{cid}";
    /// Customer stacks' custom-resource requests, through trackses' callback topics.
    pub const CLOUDFORMATION: &str = "/v1/hooks/cloudformation";
}

/// Unknown routes and methods answer in problem+json like every other error.
pub fn finish(routes: Router) -> Router {
    routes
        .fallback(problem::route_not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
}
