//! Directives (指令) and household campaigns (入户排查).

mod bench;
mod directives;
mod households;

pub use directives::{Attachment, Directive, LevelProgress, NewDirective, Recipient};
pub use households::{Campaign, NewCampaign, Task, VisitIn, VisitResult};
