//! The HTTP edge: routers for the API and the webhook, auth, and the one error mapping.

pub mod api;
pub mod auth;
pub mod connections;
pub mod dashboard;
pub mod onboarding;
pub mod problem;
pub mod webhook;

use axum::Router;

/// Unknown routes and methods answer in problem+json like every other error.
pub fn finish(routes: Router) -> Router {
    routes
        .fallback(problem::route_not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
}
