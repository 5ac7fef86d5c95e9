//! Extractors whose rejections are our bilingual errors (the stock ones answer in plain
//! English text): JSON bodies, query strings and path segments.

use crate::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};

/// `Json<T>` for request bodies, rejecting with `400 invalid_json` (or `415`, `413`), and with
/// `400 nul_character` a string holding a NUL (`\u0000`), which no database stores in text.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !json_content_type(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "json_required",
                "请求体须为 JSON（Content-Type: application/json）",
                "Expected request with `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "请求体过大",
                r.body_text(),
            )
        })?;
        if escapes_nul(&bytes) {
            return Err(nul_character());
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("请求体格式错误：{}", rejection.body_text()),
                rejection.body_text(),
            )),
        }
    }
}

/// `application/json`, or any `application/…+json`, with or without parameters.
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mime = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// Whether the JSON text escapes a NUL character (`\u0000`); a raw NUL byte is not JSON at
/// all and the parser refuses it. Escapes are read pairwise, so `\\u0000` (a backslash, then
/// the text `u0000`) is not one.
fn escapes_nul(json: &[u8]) -> bool {
    let mut i = 0;
    while i < json.len() {
        if json[i] == b'\\' {
            if json.get(i + 1) == Some(&b'u') && json.get(i + 2..i + 6) == Some(b"0000".as_slice())
            {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

fn nul_character() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "nul_character",
        "文字中含有空字符（NUL），无法保存",
        "the text contains a NUL character, which cannot be stored",
    )
}

/// A URI part that decodes to a NUL character.
fn encodes_nul(part: &str) -> bool {
    part.contains("%00")
}

/// `Query<T>`, rejecting with `400 invalid_query` naming the parameter.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if parts.uri.query().is_some_and(encodes_nul) {
            return Err(nul_character());
        }
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(rejection) => {
                let en = rejection.body_text();
                let zh = match query_problem(&en) {
                    QueryProblem::Missing(name) => format!("缺少查询参数“{name}”"),
                    QueryProblem::Invalid(name) => format!("查询参数“{name}”的值无效"),
                    QueryProblem::Other => "查询参数无效".to_string(),
                };
                Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_query",
                    zh,
                    en,
                ))
            }
        }
    }
}

enum QueryProblem<'a> {
    Missing(&'a str),
    Invalid(&'a str),
    Other,
}

/// Which parameter the deserializer's message is about: "…: missing field `scope`" or
/// "…: days: invalid digit found in string".
fn query_problem(text: &str) -> QueryProblem<'_> {
    let detail = text
        .strip_prefix("Failed to deserialize query string: ")
        .unwrap_or(text);
    if let Some(rest) = detail.strip_prefix("missing field `") {
        return rest
            .split('`')
            .next()
            .map_or(QueryProblem::Other, QueryProblem::Missing);
    }
    match detail.split_once(": ") {
        Some((name, _))
            if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
        {
            QueryProblem::Invalid(name)
        }
        _ => QueryProblem::Other,
    }
}

/// `Path<T>`, rejecting with `400 invalid_path` (a segment that is not UTF-8 text).
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if encodes_nul(parts.uri.path()) {
            return Err(nul_character());
        }
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(ApiPath(v)),
            Err(rejection) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_path",
                "请求地址无效（路径须为 UTF-8 文字）",
                rejection.body_text(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parameter_is_named() {
        let name = |t: &str| match query_problem(t) {
            QueryProblem::Missing(n) => format!("missing {n}"),
            QueryProblem::Invalid(n) => format!("invalid {n}"),
            QueryProblem::Other => "other".into(),
        };
        assert_eq!(
            name("Failed to deserialize query string: missing field `scope`"),
            "missing scope"
        );
        assert_eq!(
            name("Failed to deserialize query string: days: invalid digit found in string"),
            "invalid days"
        );
        assert_eq!(
            name("Failed to deserialize query string: nonsense"),
            "other"
        );
        assert_eq!(name("Failed to deserialize query string: a b: c"), "other");
    }

    #[test]
    fn a_nul_is_found_only_where_it_is_escaped() {
        assert!(escapes_nul(br#"{"a":"x\u0000y"}"#));
        assert!(escapes_nul(br#"{"a":"\\\u0000"}"#));
        assert!(!escapes_nul(br#"{"a":"\\u0000"}"#));
        assert!(!escapes_nul(br#"{"a":"\u000"}"#));
        assert!(!escapes_nul(br#"{"a":"\u0001 u0000"}"#));
    }
}
