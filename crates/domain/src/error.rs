//! Errors that reach a user carry a stable snake_case code and a message in Chinese and English.

/// A user-facing error text: stable code plus both languages.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ErrorText {
    pub code: &'static str,
    pub zh: String,
    pub en: String,
}

/// Implemented by every error that can be shown to a user (HTTP body, CLI message).
pub trait Bilingual {
    /// Stable machine-readable code, e.g. `region_not_found`.
    fn code(&self) -> &'static str;
    /// Message in Chinese.
    fn zh(&self) -> String;
    /// Message in English.
    fn en(&self) -> String;

    fn text(&self) -> ErrorText {
        ErrorText {
            code: self.code(),
            zh: self.zh(),
            en: self.en(),
        }
    }
}
