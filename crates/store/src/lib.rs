//! Persistence for shezhi. One [`Store`] in front of SQLite (embedded default) or
//! PostgreSQL (chosen by URL), offering use-case methods; transactions stay inside.
//! SQL is shared where the dialects agree; each backend keeps its own migration files,
//! named the same.

pub mod access;
mod backend;
pub mod campaigns;
pub mod cases;
pub mod db;
mod error;
mod migrate;
pub mod register;
pub mod territory;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use backend::{Backend, Store, StoreOptions};
pub use error::StoreError;
pub use territory::{LeafRegion, RegionRow};
