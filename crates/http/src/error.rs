//! The one place where failures become HTTP responses. Client errors carry a stable code and
//! both languages; internal errors are logged and shown only as `internal_error`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shezhi_domain::{Bilingual, ErrorText};
use shezhi_store::StoreError;

/// Body of every error response.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code, e.g. `region_not_found`.
    #[schema(example = "region_not_found")]
    pub code: String,
    /// Message in Chinese.
    pub zh: String,
    /// Message in English.
    pub en: String,
}

#[derive(Debug, Clone)]
pub enum ApiError {
    /// A client error with its status and text.
    Client(StatusCode, ErrorText),
    /// Something broke inside; the detail goes to the log only.
    Internal(String),
}

impl ApiError {
    pub fn client(status: StatusCode, e: &dyn Bilingual) -> ApiError {
        ApiError::Client(status, e.text())
    }

    pub fn new(
        status: StatusCode,
        code: &'static str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> ApiError {
        ApiError::Client(
            status,
            ErrorText {
                code,
                zh: zh.into(),
                en: en.into(),
            },
        )
    }

    /// `404` with the resource's own code (`region_not_found`, `directive_not_found`, …).
    pub fn not_found(code: &'static str, what_zh: &str, what_en: &str, id: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            code,
            format!("未找到{what_zh}“{id}”"),
            format!("{what_en} {id:?} not found"),
        )
    }
}

impl ApiError {
    /// The error as the body's detail (internal causes hidden), for answers that carry
    /// several outcomes at once.
    pub fn detail(self) -> ErrorDetail {
        let text = match self {
            ApiError::Client(_, text) => text,
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                ErrorText {
                    code: "internal_error",
                    zh: "服务器内部错误".into(),
                    en: "internal server error".into(),
                }
            }
        };
        ErrorDetail {
            code: text.code.to_string(),
            zh: text.zh,
            en: text.en,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match &e {
            _ if e.is_internal() => ApiError::Internal(e.to_string()),
            StoreError::NotFound(t) => ApiError::Client(StatusCode::NOT_FOUND, t.clone()),
            StoreError::Refused(t) => ApiError::Client(StatusCode::CONFLICT, t.clone()),
            StoreError::Invalid(t) => ApiError::Client(StatusCode::UNPROCESSABLE_ENTITY, t.clone()),
            _ => ApiError::client(StatusCode::UNPROCESSABLE_ENTITY, &e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::Client(status, _) => *status,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let body = ErrorBody {
            error: self.detail(),
        };
        (status, Json(body)).into_response()
    }
}
