//! The HTTP edge every function's router shares: the one error mapping (`problem`), bearer
//! authentication (`auth`), and the problem+json fallbacks (`finish`).

pub mod auth;
pub mod problem;

use axum::Router;

pub use problem::Problem;

/// Unknown routes and methods answer in problem+json like every other error.
pub fn finish(routes: Router) -> Router {
    routes
        .fallback(problem::route_not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
}
