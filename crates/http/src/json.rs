//! A JSON body extractor whose rejections are our bilingual errors (the stock one answers in
//! plain English text).

use crate::ApiError;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;

/// `Json<T>` for request bodies, rejecting with `400 invalid_json` (or `415`, `413`).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => {
                use axum::extract::rejection::JsonRejection as R;
                let (status, code, zh) = match &rejection {
                    R::MissingJsonContentType(_) => (
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "json_required",
                        "请求体须为 JSON（Content-Type: application/json）".to_string(),
                    ),
                    R::BytesRejection(_) => (
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "body_too_large",
                        "请求体过大".to_string(),
                    ),
                    _ => (
                        StatusCode::BAD_REQUEST,
                        "invalid_json",
                        format!("请求体格式错误：{}", rejection.body_text()),
                    ),
                };
                Err(ApiError::new(status, code, zh, rejection.body_text()))
            }
        }
    }
}
