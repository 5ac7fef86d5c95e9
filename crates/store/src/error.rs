//! The store's error type, with stable codes for the layers above.

use shezhi_domain::territory::division::RowError;
use shezhi_domain::{Bilingual, ErrorText};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("invalid database URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("import rejected: {} bad rows", .0.len())]
    Rejected(Vec<RowError>),
    /// What was asked for does not exist.
    #[error("{}", .0.en)]
    NotFound(ErrorText),
    /// The request cannot be carried out as asked; the text says why, in both languages.
    #[error("{}", .0.en)]
    Refused(ErrorText),
    /// The request itself is malformed or incomplete; the text says what to fix.
    #[error("{}", .0.en)]
    Invalid(ErrorText),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

impl StoreError {
    pub fn not_found(
        code: &'static str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> StoreError {
        StoreError::NotFound(ErrorText {
            code,
            zh: zh.into(),
            en: en.into(),
        })
    }

    pub fn invalid(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> StoreError {
        StoreError::Invalid(ErrorText {
            code,
            zh: zh.into(),
            en: en.into(),
        })
    }

    pub fn refused(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> StoreError {
        StoreError::Refused(ErrorText {
            code,
            zh: zh.into(),
            en: en.into(),
        })
    }

    /// True for failures of the database itself (a 5xx for HTTP, never shown in detail).
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            StoreError::Db(_) | StoreError::Corrupt(_) | StoreError::Unavailable(_)
        )
    }
}

impl Bilingual for StoreError {
    fn code(&self) -> &'static str {
        match self {
            StoreError::InvalidUrl { .. } => "invalid_database_url",
            StoreError::Unavailable(_) => "database_unavailable",
            StoreError::Rejected(_) => "import_rejected",
            StoreError::Refused(t) | StoreError::NotFound(t) | StoreError::Invalid(t) => t.code,
            StoreError::Corrupt(_) | StoreError::Db(_) => "internal_error",
        }
    }
    fn zh(&self) -> String {
        match self {
            StoreError::InvalidUrl { url, reason } => format!(
                "数据库地址“{url}”无效（{reason}）。请使用 sqlite://文件路径 或 postgres://用户@主机:端口/库名"
            ),
            StoreError::Unavailable(m) => format!("数据库无法连接：{m}"),
            StoreError::Rejected(rows) => {
                format!("导入被拒绝：{} 行有错误，未导入任何数据", rows.len())
            }
            StoreError::Refused(t) | StoreError::NotFound(t) | StoreError::Invalid(t) => {
                t.zh.clone()
            }
            StoreError::Corrupt(_) | StoreError::Db(_) => "服务器内部错误".into(),
        }
    }
    fn en(&self) -> String {
        match self {
            StoreError::InvalidUrl { url, reason } => format!(
                "invalid database URL {url:?} ({reason}); use sqlite://path/to/file.db or postgres://user@host:port/dbname"
            ),
            StoreError::Unavailable(m) => format!("cannot reach the database: {m}"),
            StoreError::Rejected(rows) => format!(
                "import rejected: {} bad rows, nothing was loaded",
                rows.len()
            ),
            StoreError::Refused(t) | StoreError::NotFound(t) | StoreError::Invalid(t) => {
                t.en.clone()
            }
            StoreError::Corrupt(_) | StoreError::Db(_) => "internal server error".into(),
        }
    }
}
