//! The register of houses and people: bulk load of the synthetic city, the operations that
//! change it with history, the reads the API serves, and live counts per region.

mod batch;
pub(crate) mod bulk;
pub mod counts;
mod load;
mod ops;
mod plans;
mod query;

pub use counts::Counts;
pub use load::{LoadOptions, LoadProgress, LoadReport, LoadSpec, RawReport};
pub use ops::{Departure, NewResident, Stamp};
pub use query::{
    HouseholdDetail, HouseholdSummary, NamedPlace, Page, RegisterEvent, ResidentDetail,
    ResidentSummary, SealedPersonal, Search, TagRecord,
};

/// A fresh nonce for sealing one value, from the operating system's generator.
pub(crate) fn fresh_nonce() -> Result<[u8; 24], crate::StoreError> {
    use rand::TryRngCore;
    let mut n = [0u8; 24];
    rand::rngs::OsRng.try_fill_bytes(&mut n).map_err(|e| {
        crate::StoreError::Unavailable(format!("no operating system randomness: {e}"))
    })?;
    Ok(n)
}
