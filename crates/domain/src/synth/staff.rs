//! The people who keep the register: per grid a grid chief (网格长), a full-time and two
//! part-time grid workers; per micro-grid two or three micro-grid workers (often building
//! heads); per community seven community staff. About 380,000 across Chengdu.

use super::rng::Rng;
use super::{Assignment, AssignmentTarget, GridIds, GridPlan, GridRegister, StaffMember, names};
use crate::people::{Date, Phone, Sex, StaffRole};

const COMMUNITY_STAFF: usize = 7;

fn member(rng: &mut Rng, ids: &mut GridIds, role: StaffRole, out: &mut GridRegister) -> i64 {
    let sex = if rng.chance(0.55) {
        Sex::Female
    } else {
        Sex::Male
    };
    let id = ids.staff.next();
    let number = format!(
        "1{}{:09}",
        [3, 5, 8, 9][rng.below(4) as usize],
        rng.below(1_000_000_000)
    );
    let phone =
        Phone::parse(&number).unwrap_or_else(|_| unreachable!("generated phones are valid"));
    out.staff.push(StaffMember {
        id,
        name: names::person(rng, sex, None),
        sex,
        phone,
        role,
    });
    id
}

/// Generate the grid's staff and their assignments. Returns, for each cell, the micro-grid
/// worker who records that cell's register entries.
pub(super) fn grid_staff(
    plan: &GridPlan,
    rng: &mut Rng,
    ids: &mut GridIds,
    as_of: Date,
    out: &mut GridRegister,
) -> Vec<i64> {
    let assign = |out: &mut GridRegister, rng: &mut Rng, staff_id, target, role| {
        let since = as_of.add_days(-rng.range(30, 6 * 365));
        out.assignments.push(Assignment {
            staff_id,
            target,
            role,
            since,
        });
    };
    if plan.first_in_community {
        for _ in 0..COMMUNITY_STAFF {
            let id = member(rng, ids, StaffRole::CommunityStaff, out);
            assign(
                out,
                rng,
                id,
                AssignmentTarget::Community,
                StaffRole::CommunityStaff,
            );
        }
    }
    let mut roles = vec![StaffRole::GridChief, StaffRole::FullTimeGridWorker];
    if !plan.special {
        roles.extend([StaffRole::PartTimeGridWorker, StaffRole::PartTimeGridWorker]);
    }
    for role in roles {
        let id = member(rng, ids, role, out);
        assign(out, rng, id, AssignmentTarget::Grid, role);
    }
    let mut recorders = Vec::with_capacity(plan.cells.len());
    for i in 0..plan.cells.len() {
        let n = if plan.special {
            1
        } else if rng.chance(0.5) {
            2
        } else {
            3
        };
        let mut first = 0;
        for k in 0..n {
            let id = member(rng, ids, StaffRole::MicroGridWorker, out);
            assign(
                out,
                rng,
                id,
                AssignmentTarget::Cell(i as u32),
                StaffRole::MicroGridWorker,
            );
            if k == 0 {
                first = id;
            }
        }
        recorders.push(first);
    }
    recorders
}
