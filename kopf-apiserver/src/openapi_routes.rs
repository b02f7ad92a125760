//! `/openapi/v3` (API-20, API-21): the index and per-group-version documents.

use crate::http::RespBody;
use crate::server::Shared;
use crate::status::ApiError;
use hyper::Response;

/// Serves `/openapi/v3/<rest>`.
pub fn serve(shared: &Shared, rest: &[&str], hash: Option<&str>) -> Result<Response<RespBody>, ApiError> {
    let _ = (shared, rest, hash);
    Err(ApiError::not_found_generic())
}
