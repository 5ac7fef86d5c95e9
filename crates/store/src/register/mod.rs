//! The register of houses and people: bulk load of the synthetic city, the operations that
//! change it with history, the reads the API serves, and live counts per region.

mod batch;
pub(crate) mod bulk;
pub mod counts;
mod load;
mod plans;

pub use counts::Counts;
pub use load::{LoadOptions, LoadProgress, LoadReport, LoadSpec, RawReport};
