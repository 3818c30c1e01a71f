//! The OpenAPI 3 document of `/api/v1`, built from the same `ListSpec`s the routes validate with.

use super::ApiContext;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tenantscope_model::api::{FilterKind, ListSpec, APPLICATIONS, COLLECTIONS, DETECTIONS, DEVICES, MAX_PAGE_SIZE, PRODUCTS, THREATS};

/// Every route under `/api/v1`, as OpenAPI paths. Tests check this against the router.
pub const PATHS: [&str; 21] = [
    "/summary",
    "/devices",
    "/devices/facets",
    "/devices/{id}",
    "/applications",
    "/applications/facets",
    "/products",
    "/products/facets",
    "/collections",
    "/collections/{id}",
    "/collections/facets",
    "/threats/facets",
    "/detections/facets",
    "/threats",
    "/threats/{id}",
    "/threats/timeline",
    "/detections",
    "/antivirus",
    "/connector",
    "/connector/timeline",
    "/openapi.json",
];

pub fn router() -> Router<ApiContext> {
    Router::new().route("/openapi.json", get(|| async { Json(document()) }))
}

fn param(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

fn list_params(spec: &ListSpec) -> Vec<Value> {
    let mut out = vec![
        param("page", "Page number, from 1.", json!({ "type": "integer", "minimum": 1, "default": 1 })),
        param("page_size", "Rows per page.", json!({ "type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 50 })),
        param("sort", "Field to sort by.", json!({ "type": "string", "enum": spec.sortable, "default": spec.default_sort.0 })),
        param("order", "Sort direction.", json!({ "type": "string", "enum": ["asc", "desc"] })),
        param("q", &format!("Free text, searched in {}.", spec.searchable.join(", ")), json!({ "type": "string", "maxLength": 200 })),
        param("format", "json (one page) or csv (the whole selection, streamed).", json!({ "type": "string", "enum": ["json", "csv"], "default": "json" })),
        param("columns", "CSV columns, comma-separated, in order (default: all).", json!({ "type": "string", "example": spec.columns.join(",") })),
    ];
    for f in spec.filters {
        let schema = match f.kind {
            FilterKind::Text | FilterKind::Member => json!({ "type": "string", "minLength": 1, "maxLength": 256 }),
            FilterKind::Int => json!({ "type": "integer" }),
            FilterKind::Bool => json!({ "type": "boolean" }),
            FilterKind::Verdict => {
                json!({ "type": "string", "enum": tenantscope_model::HealthVerdict::ALL.map(|v| v.key()) })
            }
            FilterKind::Agent => json!({ "type": "string", "enum": tenantscope_model::AgentState::ALL.map(|v| v.key()) }),
            FilterKind::From | FilterKind::To => json!({ "type": "string", "format": "date-time" }),
            FilterKind::Range => json!({ "type": "string", "enum": tenantscope_model::api::TimeRange::ALL.map(|r| r.key()) }),
        };
        let mut p = param(f.name, "Filter; repeat the parameter to match any of several values.", json!({ "type": "array", "items": schema }));
        p["style"] = json!("form");
        p["explode"] = json!(true);
        out.push(p);
    }
    out
}

fn errors() -> Value {
    json!({
        "400": { "description": "A parameter is invalid; `detail` names it.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
        "404": { "description": "Not found.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
        "500": { "description": "Internal error (logged, not described).", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
    })
}

fn list_op(spec: &ListSpec, summary: &str) -> Value {
    let mut responses = errors();
    responses["200"] = json!({
        "description": "One page (JSON) or the whole selection (CSV).",
        "content": {
            "application/json": { "schema": { "$ref": "#/components/schemas/Page" } },
            "text/csv": { "schema": { "type": "string" } }
        }
    });
    json!({ "get": { "operationId": spec.name, "summary": summary, "parameters": list_params(spec), "responses": responses } })
}

fn op(id: &str, summary: &str, parameters: Value) -> Value {
    let mut responses = errors();
    responses["200"] = json!({ "description": "OK", "content": { "application/json": { "schema": { "type": "object" } } } });
    json!({ "get": { "operationId": id, "summary": summary, "parameters": parameters, "responses": responses } })
}

pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    paths.insert("/summary".into(), op("summary", "Overview KPIs.", json!([])));
    paths.insert("/devices".into(), list_op(&DEVICES, "Devices with their Defender health verdict and active threats."));
    paths.insert(
        "/devices/facets".into(),
        op(
            "devices_facets",
            "Values of every devices filter with device counts under the other filters and the search (filter choices). Takes the devices list's filters and q.",
            Value::Array(list_params(&DEVICES)),
        ),
    );
    paths.insert(
        "/devices/{id}".into(),
        op(
            "device",
            "One device: identity, Defender health, threats, collections, applications.",
            json!([{ "name": "id", "in": "path", "required": true, "description": "The device's AADDeviceID.", "schema": { "type": "string" } }]),
        ),
    );
    paths.insert("/applications".into(), list_op(&APPLICATIONS, "MSI deployment types."));
    paths.insert(
        "/products".into(),
        list_op(&PRODUCTS, "Products: deployment types grouped by ProductName, with whole-product totals and their deployment types."),
    );
    paths.insert(
        "/products/facets".into(),
        op("products_facets", "Values of every products filter with product counts (filter choices).", Value::Array(list_params(&PRODUCTS))),
    );
    paths.insert(
        "/applications/facets".into(),
        op("applications_facets", "Values of every applications filter with counts (filter choices).", Value::Array(list_params(&APPLICATIONS))),
    );
    let path_param = |name: &str, description: &str, schema: Value| {
        json!([{ "name": name, "in": "path", "required": true, "description": description, "schema": schema }])
    };
    let window = |extra: Vec<Value>| {
        let mut params = vec![
            param("range", "Time range ending now: 24h and 7d in hours, 30d and 90d in days. Excludes bucket/from/to.", json!({ "type": "string", "enum": ["24h", "7d", "30d", "90d"] })),
            param("bucket", "Bucket width.", json!({ "type": "string", "enum": ["day", "hour"], "default": "day" })),
            param("from", "Start (RFC 3339); default 90 days (day) or 48 hours (hour) before `to`.", json!({ "type": "string", "format": "date-time" })),
            param("to", "End (RFC 3339); default the last upload.", json!({ "type": "string", "format": "date-time" })),
        ];
        params.extend(extra);
        Value::Array(params)
    };
    paths.insert("/collections".into(), list_op(&COLLECTIONS, "Defender policy compliance per collection."));
    paths.insert(
        "/collections/{id}".into(),
        op("collection", "One collection with its policy counts.", path_param("id", "The CollectionId.", json!({ "type": "string" }))),
    );
    paths.insert("/threats".into(), list_op(&THREATS, "Threats: the selected detections grouped by ThreatID."));
    paths.insert(
        "/threats/{id}".into(),
        op("threat", "One threat over all its detections.", path_param("id", "The ThreatID.", json!({ "type": "integer" }))),
    );
    paths.insert(
        "/threats/timeline".into(),
        op(
            "threats_timeline",
            "Detections per time bucket and severity.",
            window(vec![param("ThreatID", "Only this threat.", json!({ "type": "integer" }))]),
        ),
    );
    paths.insert("/detections".into(), list_op(&DETECTIONS, "Detections, one per threat per device."));
    paths.insert(
        "/antivirus".into(),
        op("antivirus", "Devices by antivirus agent state, and engine, signature and platform versions.", json!([])),
    );
    paths.insert(
        "/connector".into(),
        op(
            "connector",
            "Service connection point facts and telemetry.",
            json!([param("events", "Newest telemetry items to return.", json!({ "type": "integer", "minimum": 1, "maximum": 500, "default": 100 }))]),
        ),
    );
    paths.insert(
        "/connector/timeline".into(),
        op("connector_timeline", "Service connection point telemetry per time bucket and severity level.", window(vec![])),
    );
    for spec in [&COLLECTIONS, &THREATS, &DETECTIONS] {
        let list = spec.name;
        paths.insert(
            format!("/{list}/facets"),
            op(
                &format!("{list}_facets"),
                &format!("Values of the {list} filters with counts under the other filters and the search (filter choices)."),
                Value::Array(list_params(spec)),
            ),
        );
    }
    paths.insert("/openapi.json".into(), op("openapi", "This document.", json!([])));
    json!({
        "openapi": "3.0.3",
        "info": { "title": "Tenantscope API", "version": env!("CARGO_PKG_VERSION"),
                  "description": "Configuration Manager tenant-attach data. Field names are the documented upload names. Dates are RFC 3339 UTC." },
        "servers": [{ "url": "/api/v1" }],
        "paths": paths,
        "components": { "schemas": {
            "Error": { "type": "object", "required": ["error", "detail"], "properties": { "error": { "type": "string" }, "detail": { "type": "string" } } },
            "Page": { "type": "object", "required": ["items", "total", "page", "page_size"], "properties": {
                "items": { "type": "array", "items": { "type": "object" } },
                "total": { "type": "integer" }, "page": { "type": "integer" }, "page_size": { "type": "integer" } } }
        } }
    })
}
