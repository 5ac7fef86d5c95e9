//! Identity and access in the database: users and role bindings, sessions and API tokens,
//! handling units, and the hash-chained audit trail.

pub mod audit;
mod users;

pub use audit::{AuditCheck, AuditHead, AuditNote, By};
pub use users::{ApiTokenRecord, HandlingUnit, NewUser, SessionRecord, UserRecord};
