//! `shezhi bench scale`: the command view and the SLA sweeper with millions of cases, on a
//! fresh database. Cases are written straight to the tables with their counters (the same
//! deltas the steps would have written), spread over the whole city and the last 30 days.
//! Then: the city overview read from counters, against a GROUP BY over the cases in the same
//! run; and the sweeper in real time, with 1 % of the open cases coming due each minute,
//! reporting how late each timer fired.

use super::CliError;
use super::bench_cases::case_db;
use crate::config::BenchBackend;
use shezhi_domain::calendar::WorkCalendar;
use shezhi_domain::cases::CaseLevel;
use shezhi_domain::clock::Clock;
use shezhi_domain::people::Date;
use shezhi_domain::synth::rng::Rng;
use shezhi_domain::territory::RegionCode;
use shezhi_http::SystemClock;
use shezhi_store::cases::{BULK_REPORTERS, BulkCase, CaseFilter};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const DAY: i64 = 86_400_000;
const CATEGORIES: &[&str] = &[
    "order.vendor",
    "appearance.garbage",
    "facility.streetlight",
    "property.service",
    "environment.noise",
    "dispute.neighbour",
    "safety.ebike",
    "order.parking",
];
const SOURCES: &[&str] = &["resident", "resident", "patrol", "hotline", "clue"];

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Counter deltas of one synthetic case, as its steps would have written them.
fn count(c: &BulkCase, counters: &mut HashMap<(String, &'static str, i64), i64>) {
    let scopes =
        shezhi_store::cases::scopes_of(&c.cell, c.lead_unit.as_deref(), &c.category, &c.source);
    let day = Date::from_epoch_ms_cst(c.created_at_ms).days_since_epoch();
    let closed = c.closed_at_ms.is_some();
    for s in scopes {
        let mut add =
            |m: &'static str, d: i64, v: i64| *counters.entry((s.clone(), m, d)).or_default() += v;
        add("intake", day, 1);
        add("open", day, 1);
        if let Some(at) = c.closed_at_ms {
            let d = Date::from_epoch_ms_cst(at).days_since_epoch();
            add("closed", d, 1);
            add("closed_on_time", d, 1);
            add("open", d, -1);
        }
        if c.overdue && !closed {
            add("overdue_open", day, 1);
        }
    }
}

/// The handling units of the synthetic cases: nearly all go to the first.
/// What the synthetic cases say: a place, a problem (its title) and a detail, so that a
/// problem is in about 1 case in 20 and a problem at a place in about 1 in 200.
const PLACES: &[&str] = &[
    "小区门口",
    "楼道里",
    "人行道上",
    "菜市场旁",
    "学校附近",
    "公交站",
    "地下车库",
    "广场",
    "河边",
    "背街小巷",
];
const PROBLEMS: &[&str] = &[
    "路灯不亮",
    "井盖缺失",
    "占道经营",
    "噪音扰民",
    "垃圾满溢",
    "违章搭建",
    "堆放杂物",
    "消防通道堵塞",
    "污水外溢",
    "树木倒伏",
    "共享单车乱停",
    "小广告乱贴",
    "电梯故障",
    "水管漏水",
    "停车难",
    "油烟扰民",
    "宠物扰民",
    "高空抛物",
    "道路破损",
    "雨后积水",
];
const DETAILS: &[&str] = &[
    "已经持续一周",
    "影响居民出行",
    "存在安全隐患",
    "多次反映未解决",
    "夜间尤其严重",
    "请尽快处理",
];

const BIG_UNIT: &str = "510104-CG";
const SMALL_UNIT: &str = "510104-SW";

/// The city overview read once, the way GET /api/v1/overview reads it: milliseconds taken and
/// the city's open cases.
async fn overview_once(
    store: &shezhi_store::Store,
    root: &RegionCode,
    today: Date,
) -> Result<(f64, i64), CliError> {
    let t = Instant::now();
    let _row = store.region(root).await?;
    let children = store.children(root).await?;
    let mut keys: Vec<String> = children.iter().map(|c| c.code.clone()).collect();
    keys.push(root.as_str().to_string());
    let live = store.live_counts(&keys, today).await?;
    let _today = store.indicators(root.as_str(), today, today).await?;
    let open = live
        .get(root.as_str())
        .and_then(|m| m.get("open"))
        .copied()
        .unwrap_or(0);
    Ok((t.elapsed().as_secs_f64() * 1000.0, open))
}

/// The first page (50) of a case list read 30 times: milliseconds, sorted, and the page's
/// length.
async fn list_times(
    store: &shezhi_store::Store,
    scope: Option<&RegionCode>,
    f: &CaseFilter,
) -> Result<(Vec<f64>, usize), CliError> {
    let scopes = scope.map(|s| vec![s.clone()]);
    let mut times = Vec::new();
    let mut len = 0;
    for _ in 0..30 {
        let t = Instant::now();
        len = store
            .cases(scopes.as_deref(), f, None, 50)
            .await?
            .items
            .len();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok((times, len))
}

pub async fn run(
    backend: BenchBackend,
    at: Option<&str>,
    cases: usize,
    minutes: u64,
    keep: bool,
) -> Result<(), CliError> {
    let (db, store) = case_db(backend, at, "scale").await?;
    let cells: Vec<RegionCode> = store
        .leaf_regions()
        .await?
        .into_iter()
        .map(|l| l.code)
        .collect();
    let clock = SystemClock;
    let now = clock.now_ms();
    let mut rng = Rng::new(2026);

    // Load: cases a batch at a time, counters at the end.
    let load_start = Instant::now();
    let mut counters: HashMap<(String, &'static str, i64), i64> = HashMap::new();
    let mut open_ids: Vec<i64> = Vec::new();
    let batch = 50_000;
    let mut id = 1i64;
    while (id as usize) <= cases {
        let mut rows = Vec::with_capacity(batch);
        for _ in 0..batch.min(cases + 1 - id as usize) {
            let cell = &cells[rng.below(cells.len() as u64) as usize];
            let created = now - rng.range(0, 30 * DAY);
            let closed = rng.chance(0.45);
            let level = *rng.pick(&[
                CaseLevel::Grid,
                CaseLevel::Community,
                CaseLevel::Community,
                CaseLevel::Street,
            ]);
            let level_code =
                shezhi_store::cases::level_code(cell, level).unwrap_or_else(|| cell.clone());
            let stage = if closed {
                "closed"
            } else {
                *rng.pick(&[
                    "reported",
                    "accepted",
                    "dispatched",
                    "handling",
                    "handling",
                    "fed_back",
                ])
            };
            let problem = *rng.pick(PROBLEMS);
            let c = BulkCase {
                id,
                title: problem.to_string(),
                description: format!("{}{problem}，{}", rng.pick(PLACES), rng.pick(DETAILS)),
                category: (*rng.pick(CATEGORIES)).to_string(),
                source: (*rng.pick(SOURCES)).to_string(),
                cell: cell.as_str().to_string(),
                stage: stage.to_string(),
                level: level.as_str().to_string(),
                level_code: level_code.as_str().to_string(),
                // One department gets nearly all dispatched cases, another one in 500.
                lead_unit: matches!(stage, "dispatched" | "handling" | "fed_back").then(|| {
                    if rng.chance(0.002) {
                        SMALL_UNIT
                    } else {
                        BIG_UNIT
                    }
                    .to_string()
                }),
                due_at_ms: (!closed).then(|| now + rng.range(DAY, 10 * DAY)),
                overdue: !closed && rng.chance(0.05),
                created_at_ms: created,
                closed_at_ms: closed
                    .then(|| created + rng.range(DAY / 24, 5 * DAY).min(now - created)),
            };
            count(&c, &mut counters);
            if !closed {
                open_ids.push(id);
            }
            rows.push(c);
            id += 1;
        }
        store.bulk_cases(&rows).await?;
    }
    let rows: Vec<(String, String, i64, i64)> = counters
        .into_iter()
        .map(|((s, m, d), v)| (s, m.to_string(), d, v))
        .collect();
    let counter_rows = rows.len();
    for chunk in rows.chunks(200_000) {
        store.bulk_counters(chunk).await?;
    }
    let load_time = load_start.elapsed();
    // The search indexer over every loaded case, as a server does after an upgrade.
    let index_start = Instant::now();
    let indexed = store.index_all_case_text().await?;
    let index_time = index_start.elapsed();
    store.bulk_cases_done(id).await?;

    // The city overview, read the way GET /api/v1/overview reads it.
    let root = RegionCode::parse(&store.root_code().await?.unwrap_or_default())
        .map_err(|e| CliError::Config(e.to_string()))?;
    let today = Date::from_epoch_ms_cst(now);
    let mut times = Vec::new();
    let mut open_city = 0;
    for _ in 0..200 {
        let (ms, open) = overview_once(&store, &root, today).await?;
        times.push(ms);
        open_city = open;
    }
    times.sort_by(f64::total_cmp);
    let mut raw_times = Vec::new();
    let mut open_raw = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let by_stage = store.bench_group_by_stage().await?;
        raw_times.push(t.elapsed().as_secs_f64() * 1000.0);
        open_raw = by_stage
            .iter()
            .filter(|(s, _, _)| s != "closed")
            .map(|(_, n, _)| n)
            .sum::<i64>();
    }
    raw_times.sort_by(f64::total_cmp);

    // First pages of case lists, as GET /api/v1/cases reads them, against the same columns of
    // 50 cases read by primary key.
    let district = store
        .children(&root)
        .await?
        .into_iter()
        .find_map(|r| RegionCode::parse(&r.code).ok())
        .unwrap_or_else(|| root.clone());
    let grid = cells[rng.below(cells.len() as u64) as usize].clone();
    let all = CaseFilter::default();
    let overdue = CaseFilter {
        overdue: true,
        ..CaseFilter::default()
    };
    let own = CaseFilter {
        reporter: Some(format!("user:{}", rng.below(BULK_REPORTERS as u64))),
        newest_first: true,
        ..CaseFilter::default()
    };
    let unit = |u: &str| CaseFilter {
        unit: Some(u.into()),
        ..CaseFilter::default()
    };
    let (big_unit, small_unit) = (unit(BIG_UNIT), unit(SMALL_UNIT));
    let words = |q: &str| CaseFilter {
        text: Some(q.into()),
        ..CaseFilter::default()
    };
    let (common_word, word_at_place) = (words("噪音"), words("学校 高空抛物"));
    let lists = [
        ("the city's cases, most urgent first", Some(&root), &all),
        (
            "a district's cases, most urgent first",
            Some(&district),
            &all,
        ),
        ("a grid's cases, most urgent first", Some(&grid), &all),
        ("the city's overdue cases", Some(&root), &overdue),
        ("a resident's own reports, newest first", None, &own),
        (
            "a department's cases (all ever sent to it), most urgent first",
            None,
            &big_unit,
        ),
        (
            "a small department's cases (0.2 % of those dispatched)",
            None,
            &small_unit,
        ),
        (
            "the city's cases with the word 噪音 (1 in 20)",
            Some(&root),
            &common_word,
        ),
        (
            "a district's cases with the words 学校 高空抛物 (1 in 200)",
            Some(&district),
            &word_at_place,
        ),
    ];
    let mut list_rows = Vec::new();
    for (what, scope, f) in lists {
        let (t, len) = list_times(&store, scope, f).await?;
        list_rows.push((what, t, len));
    }
    let mut pk_times = Vec::new();
    for i in 0..30 {
        let ids: Vec<i64> = (0..50)
            .map(|_| 1 + rng.below(cases as u64) as i64)
            .collect();
        let t = Instant::now();
        let found = store.bench_rows_by_id(&ids).await?;
        pk_times.push(t.elapsed().as_secs_f64() * 1000.0);
        if i == 0 && found == 0 {
            return Err(CliError::Config("no case found by id".into()));
        }
    }
    pk_times.sort_by(f64::total_cmp);

    // The sweeper in real time: 1 % of the open cases come due each minute for `minutes`.
    let per_minute = (open_ids.len() / 100).max(1);
    let start = clock.now_ms() + 5_000;
    let due_n = per_minute * minutes as usize;
    let mut timers = Vec::with_capacity(due_n);
    for i in 0..due_n {
        let case = open_ids[rng.below(open_ids.len() as u64) as usize];
        let at = start + (i as i64 * 60_000) / per_minute as i64;
        timers.push((case, if i % 2 == 0 { "warn" } else { "overdue" }, at));
    }
    for chunk in timers.chunks(100_000) {
        store.bulk_timers(chunk).await?;
    }
    let calendar = WorkCalendar::china();
    let end = start + minutes as i64 * 60_000;
    let mut sweeps = 0;
    // The counter fold runs beside the sweeper, as in a server.
    let fold = super::workers::spawn_counter_fold(store.clone(), super::workers::FOLD_EVERY);
    // The command view keeps reading while the sweeper writes: five reads a second.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (store, root, stop) = (store.clone(), root.clone(), stop.clone());
        tokio::spawn(async move {
            let mut times = Vec::new();
            let mut tick = tokio::time::interval(Duration::from_millis(200));
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                tick.tick().await;
                times.push(overview_once(&store, &root, today).await?.0);
            }
            Ok::<_, CliError>(times)
        })
    };
    while clock.now_ms() < end + 60_000 {
        let r = store.sweep(clock.now_ms(), &calendar, 20_000).await?;
        sweeps += 1;
        if r.fired == 0 {
            if clock.now_ms() > end {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    fold.abort();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut busy_times = reader
        .await
        .map_err(|e| CliError::Config(format!("overview reader: {e}")))??;
    busy_times.sort_by(f64::total_cmp);
    let lags: Vec<f64> = store
        .bench_timer_lags()
        .await?
        .into_iter()
        .map(|l| l as f64 / 1000.0)
        .collect();
    let fired = lags.len();
    store.close().await;
    if !keep {
        db.remove().await?;
    }

    let name = match backend {
        BenchBackend::Sqlite => "SQLite",
        BenchBackend::Postgres => "PostgreSQL",
    };
    println!("## Cases at scale: {name}\n");
    println!(
        "loaded {cases} cases ({} open) and {counter_rows} counter rows in {load_time:.1?}; \
         the search indexer took in their words in {index_time:.1?} ({:.0} cases/s)\n",
        open_ids.len(),
        indexed as f64 / index_time.as_secs_f64().max(1e-9)
    );
    println!("| measurement | p50 | p95 | max | note |");
    println!("|---|---:|---:|---:|---|");
    println!(
        "| city overview from counters (region, 20 districts, today) | {:.2} ms | {:.2} ms | {:.2} ms | open = {open_city} |",
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        percentile(&times, 1.0)
    );
    println!(
        "| city overview while the sweeper runs ({} reads) | {:.2} ms | {:.2} ms | {:.2} ms | {} |",
        busy_times.len(),
        percentile(&busy_times, 0.5),
        percentile(&busy_times, 0.95),
        percentile(&busy_times, 1.0),
        match backend {
            BenchBackend::Sqlite => "counters written by each transaction".to_string(),
            BenchBackend::Postgres =>
                format!("counter log folded every {:?}", super::workers::FOLD_EVERY),
        }
    );
    println!(
        "| baseline: GROUP BY stage over all cases | {:.0} ms | {:.0} ms | {:.0} ms | open = {open_raw} |",
        percentile(&raw_times, 0.5),
        percentile(&raw_times, 0.95),
        percentile(&raw_times, 1.0)
    );
    println!(
        "\nCase lists, first page of 50 (30 reads each), against 50 cases read by primary key:\n"
    );
    println!("| measurement | rows | p50 | p95 | p95 ratio to baseline |");
    println!("|---|---:|---:|---:|---:|");
    let pk95 = percentile(&pk_times, 0.95);
    println!(
        "| baseline: 50 cases by primary key | 50 | {:.2} ms | {pk95:.2} ms | 1.0 |",
        percentile(&pk_times, 0.5)
    );
    for (what, t, len) in &list_rows {
        println!(
            "| {what} | {len} | {:.2} ms | {:.2} ms | {:.1} |",
            percentile(t, 0.5),
            percentile(t, 0.95),
            percentile(t, 0.95) / pk95.max(1e-9)
        );
    }
    println!(
        "\nsweeper: {due_n} timers due over {minutes} min ({per_minute}/min = 1 % of open cases), {fired} fired in {sweeps} sweeps; lag p50 {:.1} s, p99 {:.1} s, max {:.1} s",
        percentile(&lags, 0.5),
        percentile(&lags, 0.99),
        percentile(&lags, 1.0)
    );
    if open_city != open_raw {
        return Err(CliError::Config(format!(
            "counters say {open_city} open, the cases {open_raw}"
        )));
    }
    Ok(())
}
