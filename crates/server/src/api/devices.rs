use super::Routes;
use super::{only_params, query_pairs, ApiContext};
use crate::error::{Error, Result};
use crate::store;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use tenantscope_model::api::{DeviceDetail, Facets, ListQuery, DEVICES};

pub fn router() -> Routes {
    Routes::new()
        .route("/devices", get(devices))
        .route("/devices/facets", get(devices_facets))
        .route("/devices/{id}", get(device).delete(super::upload::remove_device))
}

async fn devices(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Response> {
    let query = ListQuery::parse(&DEVICES, &query_pairs(&raw.0))?;
    if query.csv {
        let columns = crate::csv::columns(&DEVICES, &query);
        return Ok(crate::csv::stream(&ctx.store, DEVICES.name, columns, move |store, sink| {
            let index = store.device_index()?;
            store.with(|conn| {
                let mut failed = None;
                index.each_batch(&query, 500, |ids| match store::devices_by_id(conn, ids) {
                    Ok(rows) => rows.into_iter().all(&mut *sink),
                    Err(e) => {
                        failed = Some(e);
                        false
                    }
                });
                failed.map_or(Ok(()), Err)
            })
        }));
    }
    let page = ctx.store.run_indexed(move |conn, index| store::devices(conn, index, &query)).await?;
    Ok(Json(page).into_response())
}

/// The filter choices under the view: takes the devices list's filters and search (`q`); each
/// facet counts what the other filters select.
async fn devices_facets(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Json<Facets>> {
    let query = ListQuery::parse(&DEVICES, &query_pairs(&raw.0))?;
    let facets = ctx.store.run_indexed(move |conn, index| store::devices_facets(conn, index, &query)).await?;
    Ok(Json(facets))
}

async fn device(State(ctx): State<ApiContext>, super::Id(id): super::Id, raw: RawQuery) -> Result<Json<DeviceDetail>> {
    only_params(&query_pairs(&raw.0), &[])?;
    if id.is_empty() || id.chars().count() > super::MAX_ID_LEN {
        return Err(Error::param("id", "must be a device's AADDeviceID"));
    }
    let lookup = id.clone();
    match ctx.store.run(move |conn| store::device(conn, &lookup)).await? {
        Some(detail) => Ok(Json(detail)),
        None => Err(Error::NotFound(format!("no device with AADDeviceID {id:?}"))),
    }
}
