//! The OpenAPI 3 document of `/api/v1`, built from the same `ListSpec`s the routes validate with.

use super::Routes;
use axum::routing::get;
use axum::Json;
use serde_json::{json, Value};
use super::threats::MAX_BUCKETS;
use tenantscope_model::api::{
    FilterKind, ListSpec, TimeRange, APPLICATIONS, COLLECTIONS, DETECTIONS, DEVICES, MAX_FILTER_VALUES, MAX_PAGE_SIZE, MAX_Q_LEN,
    MAX_TEXT_VALUE, PRODUCTS, THREATS,
};

pub fn router() -> Routes {
    Routes::new().route("/openapi.json", get(|| async { Json(document()) }))
}

fn param(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

/// A filter's schema: exactly what `ListQuery::parse` accepts for one value.
fn filter_schema(kind: FilterKind) -> Value {
    match kind {
        FilterKind::Text | FilterKind::Member => json!({ "type": "string", "minLength": 1, "maxLength": MAX_TEXT_VALUE }),
        FilterKind::Int => json!({ "type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX }),
        FilterKind::Bool => json!({ "type": "boolean" }),
        FilterKind::Verdict => json!({ "type": "string", "enum": tenantscope_model::HealthVerdict::ALL.map(|v| v.key()) }),
        FilterKind::Agent => json!({ "type": "string", "enum": tenantscope_model::AgentState::ALL.map(|v| v.key()) }),
        FilterKind::From | FilterKind::To => json!({ "type": "string", "format": "date-time" }),
        FilterKind::Range => json!({ "type": "string", "enum": TimeRange::ALL.map(|r| r.key()) }),
    }
}

/// The filters of a list (optionally only those named), each repeatable.
fn filter_params(spec: &ListSpec, only: Option<&[&str]>) -> Vec<Value> {
    spec.filters
        .iter()
        .filter(|f| only.is_none_or(|names| names.contains(&f.name)))
        .map(|f| {
            let description = match f.kind {
                FilterKind::From => "Only items at or after this time (RFC 3339).".to_string(),
                FilterKind::To => "Only items before this time (RFC 3339).".to_string(),
                FilterKind::Range => "Only items of this time range ending now.".to_string(),
                _ => format!("Filter; repeat it to match any of several values (at most {MAX_FILTER_VALUES} different ones)."),
            };
            let mut p = param(
                f.name,
                &description,
                json!({ "type": "array", "items": filter_schema(f.kind), "maxItems": MAX_FILTER_VALUES }),
            );
            p["style"] = json!("form");
            p["explode"] = json!(true);
            p
        })
        .collect()
}

fn q_param(spec: &ListSpec) -> Value {
    param(
        "q",
        &format!("Free text, searched in {}.", spec.searchable.join(", ")),
        json!({ "type": "string", "maxLength": MAX_Q_LEN }),
    )
}

fn list_params(spec: &ListSpec) -> Vec<Value> {
    let mut columns = param(
        "columns",
        "CSV columns, comma-separated, in order (default: all).",
        json!({ "type": "array", "items": { "type": "string", "enum": spec.columns }, "minItems": 1 }),
    );
    columns["style"] = json!("form");
    columns["explode"] = json!(false);
    let mut out = vec![
        param("page", "Page number, from 1.", json!({ "type": "integer", "minimum": 1, "maximum": u32::MAX, "default": 1 })),
        param("page_size", "Rows per page.", json!({ "type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 50 })),
        param("sort", "Field to sort by.", json!({ "type": "string", "enum": spec.sortable, "default": spec.default_sort.0 })),
        param("order", "Sort direction.", json!({ "type": "string", "enum": ["asc", "desc"] })),
        q_param(spec),
        param("format", "json (one page) or csv (the whole selection, streamed).", json!({ "type": "string", "enum": ["json", "csv"], "default": "json" })),
        columns,
        param("labels", "CSV: codes as their labels.", json!({ "type": "boolean", "default": false })),
    ];
    debug_assert_eq!(out.len(), tenantscope_model::api::LIST_PARAMS);
    out.extend(filter_params(spec, None));
    out
}

/// A facets route's parameters: the list's search and filters.
fn facet_params(spec: &ListSpec) -> Value {
    let mut out = vec![q_param(spec)];
    out.extend(filter_params(spec, None));
    Value::Array(out)
}

fn errors() -> Value {
    json!({
        "400": { "description": "A parameter is invalid; `detail` names it.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
        "404": { "description": "Not found.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
        "500": { "description": "Internal error (logged, not described).", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
        "503": { "description": "Busy, or still preparing its data (`starting`); ask again after `Retry-After` seconds.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
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
            "Values of every devices filter with device counts under the other filters and the search (filter choices).",
            facet_params(&DEVICES),
        ),
    );
    paths.insert(
        "/devices/{id}".into(),
        op(
            "device",
            "One device: identity, Defender health, threats, collections, applications.",
            json!([{ "name": "id", "in": "path", "required": true, "description": "The device's AADDeviceID.",
                     "schema": { "type": "string", "minLength": 1, "maxLength": super::MAX_ID_LEN } }]),
        ),
    );
    paths.insert("/applications".into(), list_op(&APPLICATIONS, "MSI deployment types."));
    paths.insert(
        "/products".into(),
        list_op(&PRODUCTS, "Products: deployment types grouped by ProductName, with whole-product totals and their deployment types."),
    );
    paths.insert(
        "/products/facets".into(),
        op("products_facets", "Values of every products filter with product counts (filter choices).", facet_params(&PRODUCTS)),
    );
    paths.insert(
        "/applications/facets".into(),
        op("applications_facets", "Values of every applications filter with counts (filter choices).", facet_params(&APPLICATIONS)),
    );
    let path_param = |name: &str, description: &str, schema: Value| {
        json!([{ "name": name, "in": "path", "required": true, "description": description, "schema": schema }])
    };
    let window = |extra: Vec<Value>| {
        let mut params = vec![
            param("range", "Time range ending with the bucket that holds the last upload: 24h and 7d in hours, 30d and 90d in days. `bucket`, `from` and `to` override its parts.", json!({ "type": "string", "enum": TimeRange::ALL.map(|r| r.key()) })),
            param("bucket", "Bucket width (default: the range's, else day).", json!({ "type": "string", "enum": ["day", "hour"] })),
            param("from", &format!("Start (RFC 3339); default: the range's, else 90 days (day) or 48 hours (hour) before `to`. At most {MAX_BUCKETS} buckets are answered: an earlier start is moved up (the answer's `from` says where it starts); a start after `to` is an empty window."), json!({ "type": "string", "format": "date-time" })),
            param("to", "End (RFC 3339); default: the range's, else the last upload.", json!({ "type": "string", "format": "date-time" })),
        ];
        params.extend(extra);
        Value::Array(params)
    };
    paths.insert("/collections".into(), list_op(&COLLECTIONS, "Defender policy compliance per collection."));
    paths.insert(
        "/collections/{id}".into(),
        op("collection", "One collection with its policy counts.", path_param("id", "The CollectionId.", json!({ "type": "string", "minLength": 1, "maxLength": super::MAX_ID_LEN }))),
    );
    paths.insert("/threats".into(), list_op(&THREATS, "Threats: the selected detections grouped by ThreatID."));
    paths.insert(
        "/threats/{id}".into(),
        op("threat", "One threat over all its detections.", path_param("id", "The ThreatID.", json!({ "type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX }))),
    );
    paths.insert(
        "/threats/timeline".into(),
        op(
            "threats_timeline",
            "Detections per time bucket and severity.",
            window(filter_params(&DETECTIONS, Some(&super::threats::timeline_filters()))),
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
                facet_params(spec),
            ),
        );
    }
    paths.insert("/openapi.json".into(), op("openapi", "This document.", json!([])));
    // Live data: uploads (an uploader token) and the change notices.
    let secured = |mut responses: Value| {
        for (code, description) in [("401", "No token, or one the server does not know."), ("403", "The token's role may not do this.")] {
            responses[code] = json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
        }
        responses
    };
    let mut upload_responses = secured(errors());
    upload_responses["200"] = json!({ "description": "The batch was applied (in one transaction).", "content": { "application/json": { "schema": {
        "type": "object", "required": ["kind", "records", "change"],
        "properties": { "kind": { "type": "string" }, "records": { "type": "integer" }, "change": { "type": "integer" } } } } } });
    upload_responses["413"] = json!({ "description": format!("The body is over {} bytes, or holds over {} records.", super::upload::UPLOAD_BODY_LIMIT, super::upload::MAX_BATCH),
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
    upload_responses["422"] = json!({ "description": "A record cannot be taken: `record` (its index), `field` and `message` say which and why; nothing of the batch was written.",
        "content": { "application/json": { "schema": { "type": "object", "required": ["error", "detail"], "properties": {
            "error": { "type": "string" }, "detail": { "type": "string" }, "record": { "type": "integer" },
            "field": { "type": "string", "nullable": true }, "message": { "type": "string" } } } } } });
    paths.insert(
        "/upload/{kind}".into(),
        json!({ "post": {
            "operationId": "upload",
            "summary": "A batch of records of one kind with the documented field names, applied as upserts by natural key (AADDeviceID, ProgramID, CollectionId, DeviceId, DeviceId+ThreatID, or a telemetry item's Time+Kind+Name+Message).",
            "security": [{ "bearer": [] }],
            "parameters": path_param("kind", "What the records are.", json!({ "type": "string", "enum": tenantscope_model::upload::UploadKind::ALL.map(|k| k.key()) })),
            "requestBody": { "required": true, "content": {
                "application/json": { "schema": { "type": "array", "maxItems": super::upload::MAX_BATCH, "items": { "type": "object" } } },
                "application/x-ndjson": { "schema": { "type": "string", "description": "One JSON record per line." } } } },
            "responses": upload_responses } }),
    );
    let mut import_responses = secured(errors());
    import_responses["200"] = json!({ "description": "The file was read and checked; the answer streams NDJSON: `{\"checked\":…}` once matched against the store, `{\"progress\":{\"done\",\"total\",\"kind\"}}` per batch written, then `{\"report\":…}` (per table: rows, matched by Entra device id / by name, created, written, unchanged, skipped and why, unknown values kept). A plan the model refuses ends with `{\"error\":…}` and nothing written.",
        "content": { "application/x-ndjson": { "schema": { "type": "string" } } } });
    import_responses["413"] = json!({ "description": format!("The file is over {} bytes.", super::import::IMPORT_BODY_LIMIT),
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
    import_responses["503"] = json!({ "description": "Another import is running (one at a time); try again when it has finished.",
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
    import_responses["422"] = json!({ "description": "The file is not what it claims (not a recognised export or Graph page, wrong columns, a truncated ZIP, a formula in a cell, an over-long line, a value that cannot be read): `detail` names the file, line and column; nothing was written.",
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
    paths.insert(
        "/import".into(),
        json!({ "post": {
            "operationId": "import",
            "summary": "An Intune report export (DefenderAgents, UnhealthyDefenderAgents, Malware, ActiveMalware: the ZIP, the CSV or the JSON form) or Microsoft Graph page(s) (managedDevices with windowsProtectionState, configManagerCollections with their policy summary), applied through the upload write path in batches. Rows are matched on the Entra device id, else the device name; importing the same file again writes nothing.",
            "security": [{ "bearer": [] }],
            "parameters": [
                param("file", "The file's name, for messages and the report.", json!({ "type": "string", "maxLength": 200 })),
                param("tenant", "AADTenantID (a GUID) of devices and collections the import creates (default: the store's).", json!({ "type": "string", "pattern": "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$" }))
            ],
            "requestBody": { "required": true, "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } } },
            "responses": import_responses } }),
    );
    if let Some(device) = paths.get_mut("/devices/{id}") {
        let mut responses = secured(errors());
        responses["200"] = json!({ "description": "The device and everything hanging off it (health, detections, memberships) were removed.",
            "content": { "application/json": { "schema": { "type": "object" } } } });
        device["delete"] = json!({ "operationId": "delete_device", "summary": "Removes a device that left the site.",
            "security": [{ "bearer": [] }], "parameters": device["get"]["parameters"].clone(), "responses": responses });
    }
    let session_schema = json!({ "type": "object", "required": ["role", "signed_in", "open", "always_private"], "properties": {
        "role": { "type": "string", "enum": tenantscope_model::access::Role::ALL.map(|r| r.key()) },
        "signed_in": { "type": "boolean" }, "open": { "type": "boolean" }, "always_private": { "type": "boolean" },
        "expires": { "type": "string", "format": "date-time", "nullable": true } } });
    let mut session_responses = secured(errors());
    session_responses["200"] = json!({ "description": "Who the console talks as.", "content": { "application/json": { "schema": session_schema.clone() } } });
    let mut sign_in_responses = secured(errors());
    sign_in_responses["422"] = json!({ "description": "The body is not `{\"token\": \"…\"}` with a token in it.",
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
    sign_in_responses["200"] = json!({ "description": "Signed in: the session cookie (HttpOnly, SameSite=Strict) is set.",
        "headers": { "Set-Cookie": { "schema": { "type": "string" } } },
        "content": { "application/json": { "schema": session_schema } } });
    paths.insert(
        "/session".into(),
        json!({
            "get": { "operationId": "session", "summary": "Who the request is: role, signed in or not, whether the server is open to anybody.", "responses": session_responses },
            "post": { "operationId": "sign_in", "summary": "Signs in with a token (any role but uploader) and sets the session cookie.",
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                    "type": "object", "required": ["token"], "properties": { "token": { "type": "string", "minLength": 1 } } } } } },
                "responses": sign_in_responses },
            "delete": { "operationId": "sign_out", "summary": "Ends the session and clears its cookie.",
                "responses": { "204": { "description": "Signed out." } } }
        }),
    );
    let mut event_responses = errors();
    event_responses["200"] = json!({ "description": "Server-Sent Events: `event: change` with `id:` the change id and `data:` { id, entity, records, at, summary }; `event: reset` when a reconnecting client (Last-Event-ID) missed more than is kept. Heartbeat comments every 15 s.",
        "content": { "text/event-stream": { "schema": { "type": "string" } } } });
    paths.insert(
        "/events".into(),
        json!({ "get": { "operationId": "events", "summary": "Change notices, live.", "parameters": [
            { "name": "Last-Event-ID", "in": "header", "required": false, "description": "The last change id seen: what came after it is sent first.", "schema": { "type": "string" } }
        ], "responses": event_responses } }),
    );
    json!({
        "openapi": "3.0.3",
        "info": { "title": "Tenantscope API", "version": env!("CARGO_PKG_VERSION"),
                  "description": "Configuration Manager tenant-attach data. Field names are the documented upload names. Dates are RFC 3339 UTC. Any route takes `privacy=1`: masked values (device names, serial numbers, Entra device and user ids, domains, the tenant) are answered as stable aliases (`Device 0042`, `device-0042`, `User 0117`), and aliases are taken as addresses, filters and search; the kiosk role always gets this form." },
        "servers": [{ "url": "/api/v1" }],
        // Reads: a token or a session, or nothing on an open server (loopback by default).
        "security": [{ "bearer": [] }, { "session": [] }, {}],
        "paths": paths,
        "components": {
          "securitySchemes": {
            "bearer": { "type": "http", "scheme": "bearer", "description": "A token from `tenantscope-server token create`." },
            "session": { "type": "apiKey", "in": "cookie", "name": super::session::COOKIE, "description": "The cookie `POST /session` sets." } },
          "schemas": {
            "Error": { "type": "object", "required": ["error", "detail"], "properties": { "error": { "type": "string" }, "detail": { "type": "string" } } },
            "Page": { "type": "object", "required": ["items", "total", "page", "page_size"], "properties": {
                "items": { "type": "array", "items": { "type": "object" } },
                "total": { "type": "integer" }, "page": { "type": "integer" }, "page_size": { "type": "integer" } } }
        } }
    })
}
