//! The whole API from one table: the route tables of [`crate::routes`] (and the writes') mounted
//! under each API prefix, the router and the OpenAPI document built together. A route cannot be
//! served without its operation in the document, nor documented without being served.
//!
//! | prefix | tier | table |
//! |---|---|---|
//! | `/api/v1`, `/api/_unstable` | public | [`routes::public_table`] (`/identities`) |
//! | `/api/v1`, `/api/_unstable/openaccess` | open access | [`routes::chain_table`] |
//! | `/api/_unstable/identity/{name}` | identity | [`routes::chain_table`] |
//! | `/api/v1/subnet/{netuid}`, `/api/_unstable/openaccess/subnet/{netuid}` | open access | [`routes::subnet_table`] |
//! | `/api/v1/identity/{name}/subnet/{netuid}`, `/api/_unstable/identity/{name}/subnet/{netuid}` | identity | [`routes::subnet_table`] |

use std::sync::Arc;

use axum::Router;
use utoipa::openapi::path::Paths;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::paths::prefix_parameter;
use crate::routes::{self, Table};
use crate::state::AppState;

/// Which API a table is mounted for: most routes answer alike, a few render differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `/api/v1`.
    V1,
    /// `/api/_unstable`: the published client 2.3.1's `client.unstable`.
    Unstable,
}

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
    use routes::{chain_table, public_table, subnet_table};
    use Api::{Unstable, V1};
    use Tier::{Identity, OpenAccess};
    OpenApiRouter::with_openapi(crate::schema::base())
        .merge(mount("/api/v1", public_table()))
        .merge(mount("/api/v1", chain_table(V1)))
        .merge(mount(
            "/api/v1/subnet/{netuid}",
            subnet_table(V1, OpenAccess),
        ))
        .merge(mount(
            "/api/v1/identity/{name}/subnet/{netuid}",
            subnet_table(V1, Identity),
        ))
        .merge(mount("/api/_unstable", public_table()))
        .merge(mount("/api/_unstable/openaccess", chain_table(Unstable)))
        .merge(mount(
            "/api/_unstable/identity/{name}",
            chain_table(Unstable),
        ))
        .merge(mount(
            "/api/_unstable/openaccess/subnet/{netuid}",
            subnet_table(Unstable, OpenAccess),
        ))
        .merge(mount(
            "/api/_unstable/identity/{name}/subnet/{netuid}",
            subnet_table(Unstable, Identity),
        ))
        .split_for_parts()
}

/// `table` under `prefix`: each route registered once at its full path (`prefix` + its own), so
/// a request is one lookup with no URI rewrite (`nest` would strip the prefix on every request);
/// its operations documented there with the prefix's own path parameters (`{netuid}`, `{name}`)
/// declared once per path.
pub fn mount(prefix: &str, table: Table) -> OpenApiRouter<Arc<AppState>> {
    let parameters: Vec<_> = prefix
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(prefix_parameter)
        .collect();
    table.into_routes().fold(
        OpenApiRouter::new(),
        |router, (schemas, paths, method_router)| {
            let mut full = Paths::new();
            full.extensions = paths.extensions;
            for (path, mut item) in paths.paths {
                if !parameters.is_empty() {
                    let mut all = parameters.clone();
                    all.extend(item.parameters.take().unwrap_or_default());
                    item.parameters = Some(all);
                }
                // As `nest` composes them: a table's root is the prefix itself.
                let path = match path.as_str() {
                    "" | "/" => prefix.to_owned(),
                    _ => format!("{prefix}{path}"),
                };
                full.paths.insert(path, item);
            }
            router.routes((schemas, full, method_router))
        },
    )
}
