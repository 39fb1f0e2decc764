//! The whole API from one table: the route tables of [`crate::routes`] (and the writes') mounted
//! under each API prefix, the router and the OpenAPI document built together. A route cannot be
//! served without its operation in the document, nor documented without being served.
//!
//! | prefix | tier | table |
//! |---|---|---|
//! | `/api/v1` | public | [`routes::public_table`] (`/identities`) |
//! | `/api/v1` | open access | [`routes::chain_table`] |
//! | `/api/v1/subnet/{netuid}` | open access | [`routes::subnet_table`] |
//! | `/api/v1/identity/{name}/subnet/{netuid}` | identity | [`routes::subnet_table`] |

use std::sync::Arc;

use axum::Router;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::paths::prefix_parameter;
use crate::routes::{self, Table};
use crate::state::AppState;

/// Who a subnet prefix serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// `…/subnet/{netuid}`: the open-access token (or none when it is unset).
    OpenAccess,
    /// `…/identity/{name}/subnet/{netuid}`: the identity's token; its own objects and writes.
    Identity,
}

/// Every API route and the OpenAPI document describing exactly them.
pub fn api() -> (Router<Arc<AppState>>, OpenApi) {
    OpenApiRouter::with_openapi(crate::schema::base())
        .merge(mount("/api/v1", routes::public_table()))
        .merge(mount("/api/v1", routes::chain_table()))
        .merge(mount(
            "/api/v1/subnet/{netuid}",
            routes::subnet_table(Tier::OpenAccess),
        ))
        .merge(mount(
            "/api/v1/identity/{name}/subnet/{netuid}",
            routes::subnet_table(Tier::Identity),
        ))
        .split_for_parts()
}

/// `table` under `prefix`: its routes served there, its operations documented there with the
/// prefix's own path parameters (`{netuid}`, `{name}`) declared once per path.
pub fn mount(prefix: &str, mut table: Table) -> Table {
    let parameters: Vec<_> = prefix
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(prefix_parameter)
        .collect();
    if !parameters.is_empty() {
        for item in table.get_openapi_mut().paths.paths.values_mut() {
            let mut all = parameters.clone();
            all.extend(item.parameters.take().unwrap_or_default());
            item.parameters = Some(all);
        }
    }
    OpenApiRouter::new().nest(prefix, table)
}
