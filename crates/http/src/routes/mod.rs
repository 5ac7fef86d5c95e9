//! Handlers, one module per resource.

pub mod campaigns;
pub mod case_access;
pub mod case_steps;
pub mod cases;
pub mod catalogue;
pub mod command;
pub mod health;
pub mod locate;
pub mod open311;
pub mod regions;
pub mod register;
pub mod register_edit;
pub mod session;
pub mod users;
pub mod web;

use crate::ApiError;
use axum::http::StatusCode;
use shezhi_domain::territory::RegionCode;

/// Parse a region code from a path segment.
pub(crate) fn parse_code(raw: &str) -> Result<RegionCode, ApiError> {
    RegionCode::parse(raw).map_err(|e| ApiError::client(StatusCode::BAD_REQUEST, &e))
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "没有这个地址",
        "no such endpoint",
    )
}
