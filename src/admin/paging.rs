//! Pages of the admin lists (sessions, the journal, webhook attempts): `?limit=&offset=`, with
//! the total in `X-Total-Count` and the next page in a `Link` header, so that no list answer
//! grows with everything the mock holds.

use axum::Json;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::http::ApiError;
use crate::http::extract::QueryMap;

/// `X-Total-Count`: how many items the list has in all.
pub(crate) const X_TOTAL_COUNT: HeaderName = HeaderName::from_static("x-total-count");

/// The most one page holds, whatever `limit` asks.
pub(crate) const MAX_LIMIT: usize = 10_000;

/// Which part of a list to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Page {
    pub offset: usize,
    pub limit: usize,
}

impl Page {
    /// `limit` and `offset` from the query; `default_limit` when no `limit` is given.
    pub(crate) fn parse(query: &QueryMap, default_limit: usize) -> Result<Self, ApiError> {
        let number = |name: &str| -> Result<Option<usize>, ApiError> {
            match query.get(name).map(str::trim).filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(text) => text
                    .parse()
                    .map(Some)
                    .map_err(|_| ApiError::field(&[name], "A valid integer is required (0 or more).")),
            }
        };
        let limit = number("limit")?.unwrap_or(default_limit);
        if limit > MAX_LIMIT {
            return Err(ApiError::field(
                &["limit"],
                format!("Ensure this value is less than or equal to {MAX_LIMIT}."),
            ));
        }
        Ok(Self { offset: number("offset")?.unwrap_or(0), limit })
    }

    /// `items`, the page of a list of `total`, with the headers that say so. `path_and_query`
    /// is the request's own, for the `Link` to the next page.
    pub(crate) fn respond<T: Serialize>(self, items: Vec<T>, total: usize, path_and_query: &str) -> Response {
        let mut response = Json(items).into_response();
        let headers = response.headers_mut();
        headers.insert(X_TOTAL_COUNT, HeaderValue::from(total));
        let next = self.offset.saturating_add(self.limit);
        if next < total && self.limit > 0 {
            let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
            let mut out = url::form_urlencoded::Serializer::new(String::new());
            for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
                if key != "offset" && key != "limit" {
                    out.append_pair(&key, &value);
                }
            }
            out.append_pair("limit", &self.limit.to_string()).append_pair("offset", &next.to_string());
            let link = format!("<{path}?{}>; rel=\"next\"", out.finish());
            if let Ok(value) = HeaderValue::from_str(&link) {
                headers.insert(header::LINK, value);
            }
        }
        response
    }
}
