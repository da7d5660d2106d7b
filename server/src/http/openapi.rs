//! What the OpenAPI document says beyond each handler's own annotations, so
//! that it is what the server does (checked by schemathesis in
//! `scripts/test.d/25-openapi.sh`): the error answers every route can give
//! (bad input 400, missing credentials 401, unknown ids 404, oversized or
//! non-JSON bodies 413/415, limits 429, a dependency down 503), and the exact
//! shape of the path and query parameters (22-character ticket ids, `wait`
//! at most 30 s).

use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

use qrlogin_core::StatusQuery;

/// Error answers of the JSON API routes, with what they mean.
const API_ERRORS: [(&str, &str); 7] = [
    (
        "400",
        "invalid_request, invalid_json or invalid_ticket_id: malformed input",
    ),
    ("401", "unauthorized: missing or wrong credentials"),
    ("404", "not_found: no such resource"),
    ("413", "payload_too_large: a body over 16 KiB"),
    ("415", "unsupported_media_type: a body that is not JSON"),
    ("429", "rate_limited: try again after Retry-After"),
    ("503", "service_unavailable or busy: try again shortly"),
];

/// Error answers of the other routes (pages, health, keys, avatars).
const OTHER_ERRORS: [(&str, &str); 2] = [
    ("404", "not_found: no such resource"),
    ("503", "service_unavailable: a dependency is down"),
];

/// Completes `api` in place.
pub fn complete(api: &mut OpenApi) {
    for (path, item) in api.paths.paths.iter_mut() {
        let errors: &[(&str, &str)] = if path.starts_with("/api/") {
            &API_ERRORS
        } else {
            &OTHER_ERRORS
        };
        for operation in operations(item) {
            document_errors(operation, errors);
            tighten_parameters(operation);
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
        item.head.as_mut(),
        item.options.as_mut(),
    ]
    .into_iter()
    .flatten()
}

fn document_errors(operation: &mut Operation, errors: &[(&str, &str)]) {
    for (status, description) in errors {
        operation
            .responses
            .responses
            .entry((*status).to_string())
            .or_insert_with(|| {
                RefOr::T(
                    ResponseBuilder::new()
                        .description(*description)
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("ApiError")))
                                .build(),
                        )
                        .build(),
                )
            });
    }
}

/// Ticket ids are 22 characters of base64url; `wait` is at most 30 (s);
/// versions are not negative.
fn tighten_parameters(operation: &mut Operation) {
    let Some(parameters) = operation.parameters.as_mut() else {
        return;
    };
    for parameter in parameters {
        let schema = match parameter.name.as_str() {
            "id" => ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(22))
                .max_length(Some(22))
                .pattern(Some("^[A-Za-z0-9_-]{22}$"))
                .build(),
            "wait" => ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .maximum(Some(StatusQuery::MAX_WAIT_SECS))
                .build(),
            "after" => ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .build(),
            _ => continue,
        };
        parameter.schema = Some(RefOr::T(schema.into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_documents_its_error_answers() {
        let mut api = utoipa::openapi::OpenApiBuilder::new()
            .paths(
                utoipa::openapi::PathsBuilder::new().path(
                    "/api/v1/qr/{id}",
                    utoipa::openapi::PathItem::new(
                        utoipa::openapi::HttpMethod::Get,
                        utoipa::openapi::path::OperationBuilder::new()
                            .parameter(
                                utoipa::openapi::path::ParameterBuilder::new()
                                    .name("id")
                                    .parameter_in(utoipa::openapi::path::ParameterIn::Path),
                            )
                            .response("200", ResponseBuilder::new().description("ok")),
                    ),
                ),
            )
            .build();
        complete(&mut api);
        let operation = api.paths.paths["/api/v1/qr/{id}"].get.as_ref().unwrap();
        for (status, _) in API_ERRORS {
            assert!(
                operation.responses.responses.contains_key(status),
                "{status}"
            );
        }
        let id = &operation.parameters.as_ref().unwrap()[0];
        let schema = serde_json::to_value(&id.schema).unwrap();
        assert_eq!(schema["pattern"], "^[A-Za-z0-9_-]{22}$");
    }
}
