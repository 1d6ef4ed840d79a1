//! The HTTP contract as OpenAPI 3.1, generated from the code: each handler's `#[utoipa::path]`
//! annotation (registered with its route by `utoipa_axum::routes!`, so a route cannot be served
//! without being described), the answer types' schemas (`views`, `model`, `store`), and here
//! what no handler of this function says: the security schemes, the problem+json answer every
//! operation may give, and the two hooks other functions serve.

use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, Required, ResponseBuilder};
use utoipa::{Modify, OpenApi as _};

use edge::Problem;

/// Where the document is served.
pub const PATH: &str = "/openapi.json";

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "trackses",
        description = "Every Amazon SES event of every message, per project. Prose, limits and \
                       examples: docs/API.md.",
        license(name = "see the repository")
    ),
    components(schemas(Problem)),
    tags(
        (name = "projects", description = "Projects, their API keys, and signing in"),
        (name = "connections", description = "AWS accounts and regions a project receives events from"),
        (name = "events", description = "Events, message timelines, stats and suppressions"),
        (name = "alerts", description = "Alert rules on bounce and complaint rates, bursts, connection health and silence; their channels and history"),
        (name = "forwarding", description = "Endpoints every stored event is forwarded to, signed (Standard Webhooks) and retried"),
        (name = "hooks", description = "What SNS and customer stacks call; signed, not keyed"),
        (name = "dashboard", description = "The web dashboard and this document")
    )
)]
pub struct ApiDoc;

/// What every operation shares, added after the handlers' own paths are in.
struct Contract;

impl Modify for Contract {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "project_key",
            bearer(
                "tsk_<key id>_<secret>",
                "A project API key (`read` or `admin` scope).",
            ),
        );
        components.add_security_scheme(
            "admin_token",
            bearer(
                "token",
                "The deployment's admin token: creating projects only.",
            ),
        );
        openapi.paths.add_path_operation(
            edge::hooks::SNS,
            vec![HttpMethod::Post],
            hook(
                "SNS HTTPS delivery for one connection: a notification, subscription or \
                 unsubscribe confirmation, checked against SNS's signature and the topic the \
                 connection registered.",
                true,
            ),
        );
        openapi.paths.add_path_operation(
            edge::hooks::CLOUDFORMATION,
            vec![HttpMethod::Post],
            hook(
                "A customer stack's custom-resource request, through trackses' callback topic \
                 (an SNS HTTPS delivery), checked against SNS's signature.",
                false,
            ),
        );
        openapi.paths.add_path_operation(
            PATH,
            vec![HttpMethod::Get],
            OperationBuilder::new()
                .tag("dashboard")
                .summary(Some("This document (OpenAPI 3.1)"))
                .operation_id(Some("openapi"))
                .response(
                    "200",
                    ResponseBuilder::new()
                        .description("The document")
                        .content("application/json", ContentBuilder::new().build()),
                )
                .build(),
        );
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                operation.responses.responses.insert(
                    "default".into(),
                    ResponseBuilder::new()
                        .description("An error, as RFC 9457 problem details")
                        .content("application/problem+json", problem())
                        .into(),
                );
            }
        }
    }
}

fn bearer(format: &str, description: &str) -> SecurityScheme {
    SecurityScheme::Http(
        HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format(format)
            .description(Some(description))
            .build(),
    )
}

fn problem() -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Problem")))
        .build()
}

/// A hook: SNS posts its JSON envelope as `text/plain`.
fn hook(description: &str, per_connection: bool) -> utoipa::openapi::path::Operation {
    let mut operation = OperationBuilder::new()
        .tag("hooks")
        .description(Some(description))
        .request_body(Some(
            RequestBodyBuilder::new()
                .content("text/plain", ContentBuilder::new().build())
                .required(Some(Required::True))
                .build(),
        ))
        .response(
            "200",
            ResponseBuilder::new()
                .description("Accepted (stored, a duplicate, confirmed…)")
                .content("application/json", ContentBuilder::new().build()),
        );
    if per_connection {
        operation = operation.parameter(
            ParameterBuilder::new()
                .name("cid")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .description(Some("The connection id of the webhook URL")),
        );
    }
    operation.build()
}

/// The document of the routes `router` serves: their own paths, and what `Contract` adds.
pub fn document<S>(router: utoipa_axum::router::OpenApiRouter<S>) -> (axum::Router<S>, OpenApi)
where
    S: Clone + Send + Sync + 'static,
{
    let (router, mut document) =
        utoipa_axum::router::OpenApiRouter::with_openapi(ApiDoc::openapi())
            .merge(router)
            .split_for_parts();
    Contract.modify(&mut document);
    (router, document)
}
