//! `shezhi bench cases`: the case loop against the raw speed of the same database, in one run
//! on a fresh database: durable intake (each report acknowledged only after its group's
//! commit) against single-row commits, and whole lifecycles (accept, dispatch, sign, feed
//! back, verify) against bare "insert event + update row" transactions.

use super::bench_load::{BenchDb, fresh_db};
use super::{CliError, ensure_territory};
use crate::config::BenchBackend;
use shezhi_domain::calendar::WorkCalendar;
use shezhi_domain::cases::{Capacity, Source, Step};
use shezhi_domain::clock::Clock;
use shezhi_domain::territory::RegionCode;
use shezhi_http::SystemClock;
use shezhi_store::access::HandlingUnit;
use shezhi_store::cases::{BareReport, GroupIntake, GroupSteps, NewCase, StepInput, StepJob};
use shezhi_store::{Store, StoreOptions};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CATEGORIES: &[&str] = &[
    "order.vendor",
    "appearance.garbage",
    "facility.streetlight",
    "property.service",
    "environment.noise",
    "dispute.neighbour",
];

fn report(i: usize, cells: &[RegionCode]) -> NewCase {
    NewCase {
        source: Source::Resident,
        category: CATEGORIES[i % CATEGORIES.len()].into(),
        title: String::new(),
        description: format!("第 {i} 号诉求：小区门口占道摆摊，夜间噪声扰民，请尽快处理"),
        cell: cells[(i * 7919) % cells.len()].clone(),
        point: None,
        address: format!("锦江区测试路 {i} 号"),
        reporter: format!("user:{}", 1_000 + i % 5_000),
        contact: None,
        photos: Vec::new(),
        idempotency: Some((
            format!("user:{}", 1_000 + i % 5_000),
            format!("bench-{i}"),
            "h".into(),
        )),
        ip: None,
    }
}

fn step(s: Step, by: Capacity) -> StepInput {
    StepInput {
        step: Some(s),
        by: vec![by],
        actor: "user:1".into(),
        note: "按规定处理完毕".into(),
        units: if s == Step::Dispatch {
            vec!["510104-CG".into()]
        } else {
            Vec::new()
        },
        ..StepInput::default()
    }
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

/// A fresh benchmark database with the Chengdu territory and the case catalogue.
pub(crate) async fn case_db(
    backend: BenchBackend,
    at: Option<&str>,
    name: &str,
) -> Result<(BenchDb, Store), CliError> {
    let db = fresh_db(backend, at, name).await?;
    let store = Store::open(
        &db.url,
        &StoreOptions {
            max_connections: 8,
            ..Default::default()
        },
    )
    .await?;
    ensure_territory(&store).await?;
    store.ensure_catalogue(0).await?;
    Ok((db, store))
}

pub async fn run(
    backend: BenchBackend,
    at: Option<&str>,
    reports: usize,
    writers: usize,
    lifecycles: usize,
    movers: usize,
) -> Result<(), CliError> {
    let (db, store) = case_db(backend, at, "cases").await?;
    store
        .put_units(&[HandlingUnit {
            code: "510104-CG".into(),
            name: "锦江区城市管理局".into(),
            kind: "department".into(),
            region_code: "510104000000".into(),
        }])
        .await?;
    let cells: Vec<RegionCode> = store
        .leaf_regions()
        .await?
        .into_iter()
        .map(|l| l.code)
        .filter(|c| c.as_str().starts_with("510104"))
        .collect();
    let calendar = Arc::new(WorkCalendar::china());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);

    // Baseline 1: one row per commit.
    let single_n = 1_000;
    let single = store.bench_single_row_commits(single_n).await?;

    // The counter fold runs beside the writers, as in a server.
    let fold = super::workers::spawn_counter_fold(store.clone(), super::workers::FOLD_EVERY);

    // Durable intake through the group-commit writer, `writers` submitters at once.
    let intake = GroupIntake::start(store.clone(), None, clock.clone(), calendar.clone(), 512);
    let start = Instant::now();
    let mut tasks = Vec::new();
    let per = reports.div_ceil(writers);
    for w in 0..writers {
        let (intake, cells) = (intake.clone(), cells.clone());
        tasks.push(tokio::spawn(async move {
            for i in (w * per)..((w + 1) * per).min(reports) {
                intake.submit(report(i, &cells)).await?;
            }
            Ok::<(), shezhi_store::StoreError>(())
        }));
    }
    for t in tasks {
        t.await
            .map_err(|e| CliError::Config(format!("intake task: {e}")))??;
    }
    let intake_time = start.elapsed();
    let root = store.root_code().await?.unwrap_or_default();
    let today = shezhi_domain::people::Date::from_epoch_ms_cst(clock.now_ms());
    let taken = store
        .indicators(&root, today, today)
        .await?
        .counts
        .get("intake")
        .copied()
        .unwrap_or(0);

    // Lifecycles: five steps each, `movers` cases moving at once through the server's step
    // writer (steps sent at the same moment share a commit, none answered before it); the
    // raw baseline does the same number of transactions on other cases with the same
    // concurrency.
    let lifecycles = lifecycles.min(reports / 2);
    let steps = [
        (Step::Accept, Capacity::LevelStaff),
        // Residents' cases sit at grid level: the community above the grid dispatches.
        (Step::Dispatch, Capacity::Supervisor),
        (Step::Sign, Capacity::LeadUnit),
        (Step::Feedback, Capacity::LeadUnit),
        (Step::Verify, Capacity::LevelStaff),
    ];
    let writer = GroupSteps::start(store.clone(), calendar.clone(), 256);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for m in 0..movers {
        let (writer, clock) = (writer.clone(), clock.clone());
        tasks.push(tokio::spawn(async move {
            for id in (1..=lifecycles as i64).filter(|id| *id as usize % movers == m) {
                for (s, by) in steps {
                    writer
                        .take(StepJob {
                            case_id: id,
                            input: step(s, by),
                            now: clock.now_ms(),
                        })
                        .await?;
                }
            }
            Ok::<(), shezhi_store::StoreError>(())
        }));
    }
    for t in tasks {
        t.await
            .map_err(|e| CliError::Config(format!("lifecycle task: {e}")))??;
    }
    let life_time = start.elapsed();
    fold.abort();
    let raw_ids: Vec<i64> = ((lifecycles + 1) as i64..=(2 * lifecycles) as i64).collect();
    let raw_time = store
        .bench_raw_steps(&raw_ids, steps.len() as i64, movers)
        .await?;
    store.close().await;
    db.remove().await?;

    // Ceiling: the same reports' rows as bare multi-row inserts, in groups of `writers`, on
    // a second fresh database (the state intake started from).
    let (bare_db, bare_store) = case_db(backend, at, "cases_bare").await?;
    let now = clock.now_ms();
    let bare: Vec<BareReport> = (0..reports)
        .map(|i| {
            let r = report(i, &cells);
            let (principal, key, _) = r.idempotency.unwrap_or_default();
            BareReport {
                id: i as i64 + 1,
                number: format!("SQ{:013}", i + 1),
                category: r.category,
                cell: r.cell.as_str().to_string(),
                reporter: principal,
                key,
                title: r.description.chars().take(30).collect(),
                description: r.description,
                address: r.address,
                at_ms: now,
                due_at_ms: now + 86_400_000,
            }
        })
        .collect();
    let bare_time = bare_store.bench_bare_intake(&bare, writers).await?;
    bare_store.close().await;
    bare_db.remove().await?;

    let transitions = lifecycles * steps.len();
    let name = match backend {
        BenchBackend::Sqlite => "SQLite (WAL, synchronous=FULL)",
        BenchBackend::Postgres => "PostgreSQL",
    };
    let single_rate = rate(single_n as usize, single);
    let intake_rate = rate(reports, intake_time);
    let raw_rate = rate(transitions, raw_time);
    let life_rate = rate(transitions, life_time);
    println!("## Case loop: {name}\n");
    println!("| measurement | count | time | per second | ratio to its baseline |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| baseline: single-row commits | {single_n} | {single:.1?} | {single_rate:.0} | 1.00 |"
    );
    println!(
        "| durable intake, group commit, {writers} submitters ({taken} counted) | {reports} | {intake_time:.1?} | {intake_rate:.0} | {:.1} |",
        intake_rate / single_rate
    );
    let bare_rate = rate(reports, bare_time);
    println!(
        "| ceiling: the same reports' rows as bare multi-row inserts, {writers} a transaction | {reports} | {bare_time:.1?} | {bare_rate:.0} | {:.1} |",
        bare_rate / single_rate
    );
    println!(
        "| baseline: insert event + update row, {movers} at once | {transitions} | {raw_time:.1?} | {raw_rate:.0} | 1.00 |"
    );
    println!(
        "| lifecycle transitions (accept → dispatch → sign → feedback → verify), {movers} at once | {transitions} | {life_time:.1?} | {life_rate:.0} | {:.2} |",
        life_rate / raw_rate
    );
    if taken != reports as i64 {
        return Err(CliError::Config(format!(
            "intake counted {taken} of {reports} reports"
        )));
    }
    Ok(())
}
