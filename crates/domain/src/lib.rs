//! Pure domain of shezhi: territory codes and levels, planar geometry, the deterministic
//! tessellation of Chengdu into streets, communities, grids and micro-grids, and the
//! in-memory point-location index. Nothing here touches a database, a socket or a clock.

pub mod access;
pub mod audit;
pub mod calendar;
pub mod campaigns;
pub mod cases;
pub mod clock;
pub mod error;
pub mod geocode;
pub mod geometry;
pub mod labels;
pub mod people;
pub mod search;
pub mod synth;
pub mod territory;

pub use error::{Bilingual, ErrorText};
