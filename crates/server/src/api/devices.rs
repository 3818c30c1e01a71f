use super::{list, only_params, query_pairs, ApiContext};
use crate::error::{Error, Result};
use crate::store::{self, DEVICES_TABLE};
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use tenantscope_model::api::DeviceDetail;

pub fn router() -> Router<ApiContext> {
    Router::new().route("/devices", get(devices)).route("/devices/{id}", get(device))
}

async fn devices(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Response> {
    list(&ctx, &DEVICES_TABLE, raw).await
}

async fn device(State(ctx): State<ApiContext>, Path(id): Path<String>, raw: RawQuery) -> Result<Json<DeviceDetail>> {
    only_params(&query_pairs(&raw.0), &[])?;
    if id.is_empty() || id.len() > 64 {
        return Err(Error::param("id", "must be a device's AADDeviceID"));
    }
    let lookup = id.clone();
    match ctx.store.run(move |conn| store::device(conn, &lookup)).await? {
        Some(detail) => Ok(Json(detail)),
        None => Err(Error::NotFound(format!("no device with AADDeviceID {id:?}"))),
    }
}
