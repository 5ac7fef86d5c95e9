//! `shezhi bench campaigns`: a city-wide household campaign on a fresh database, each part
//! against a raw baseline taken in the same run: making the campaign (a task per household)
//! against a bare `INSERT … SELECT` of the same rows into a table of the same shape; visit
//! ingest (device batches through the conflict rule and coverage counters) against bare
//! "insert visit + update task" batches, with the coverage view read all the while; and the
//! seeds' pace (8.75 million households × 3 rounds in 11 days) at ten times its average, as
//! its peak hour, with the lag from sending to commit.

use super::bench_cases::case_db;
use super::bench_scale::percentile;
use super::{CliError, ensure_territory};
use crate::config::BenchBackend;
use shezhi_domain::campaigns::Outcome;
use shezhi_domain::campaigns::form::Form;
use shezhi_domain::synth::rng::Rng;
use shezhi_domain::territory::{Level, RegionCode};
use shezhi_store::Store;
use shezhi_store::campaigns::{NewCampaign, VisitIn};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn form() -> Result<Form, CliError> {
    Form::parse(&serde_json::json!({"questions": [
        {"id": "gas", "text_zh": "是否使用瓶装燃气", "type": "yes_no", "required": true},
        {"id": "cylinders", "text_zh": "气瓶数量", "type": "number", "min": 1, "max": 20, "required": true,
         "when": {"question": "gas", "equals": true}},
        {"id": "alarm", "text_zh": "是否安装燃气报警器", "type": "yes_no", "required": true}
    ]}))
    .map_err(|e| CliError::Config(format!("{e:?}")))
}

fn visit(rng: &mut Rng, tag: &str, i: usize, households: i64, now: i64) -> VisitIn {
    let outcome = *rng.pick(&[
        Outcome::Visited,
        Outcome::Visited,
        Outcome::Visited,
        Outcome::Visited,
        Outcome::NobodyHome,
        Outcome::Refused,
        Outcome::Vacant,
    ]);
    let mut answers = BTreeMap::new();
    let gas = rng.below(5) == 0;
    if outcome == Outcome::Visited {
        answers.insert("gas".into(), serde_json::json!(gas));
        if gas {
            answers.insert("cylinders".into(), serde_json::json!(1 + rng.below(3)));
        }
        answers.insert("alarm".into(), serde_json::json!(rng.below(2) == 0));
    }
    VisitIn {
        client_id: format!("{tag}-{i}"),
        household_id: 1 + rng.below(households as u64) as i64,
        round: 1,
        outcome,
        visited_at_ms: now - rng.below(3_600_000) as i64,
        answers,
        finding: (outcome == Outcome::Visited && gas && rng.below(10) == 0)
            .then(|| "气瓶放在卧室".into()),
    }
}

/// Coverage reads of random districts with their streets, until `stop`: latencies in ms.
async fn read_coverage(
    store: Store,
    campaign: i64,
    districts: Vec<(String, Vec<String>)>,
    stop: Arc<AtomicBool>,
) -> Vec<f64> {
    let mut rng = Rng::new(5);
    let mut out = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let (d, kids) = &districts[rng.below(districts.len() as u64) as usize];
        let mut keys = kids.clone();
        keys.push(d.clone());
        let t = Instant::now();
        if store.coverage(campaign, 1, &keys).await.is_err() {
            break;
        }
        out.push(t.elapsed().as_secs_f64() * 1000.0);
        tokio::task::yield_now().await;
    }
    out
}

pub async fn run(
    backend: BenchBackend,
    at: Option<&str>,
    households: i64,
    visits: usize,
    pace_seconds: u64,
) -> Result<(), CliError> {
    let (db, store) = case_db(backend, at, "campaigns").await?;
    ensure_territory(&store).await?;
    let city = RegionCode::parse("510100000000").map_err(|e| CliError::Config(e.to_string()))?;
    let cells: Vec<String> = store
        .subtree_level(&city, Level::MicroGrid)
        .await?
        .into_iter()
        .map(|r| r.code)
        .collect();
    let t = Instant::now();
    store.bench_fill_households(&cells, households).await?;
    eprintln!(
        "filled {households} households over {} micro-grids in {:.1?}",
        cells.len(),
        t.elapsed()
    );

    // Making the campaign, against the raw INSERT … SELECT of the same rows, taken before and
    // after (the faster of the two counts, so the baseline never suffers a cold cache).
    let t = Instant::now();
    let raw_rows = store.bench_raw_tasks(1).await?;
    let raw_first = t.elapsed();
    let c = NewCampaign {
        title: "全市燃气安全入户排查".into(),
        region: city.clone(),
        tag: None,
        building_type: None,
        rounds: 3,
        form: form()?,
        created_by: "user:bench".into(),
    };
    let now = super::register::now_ms();
    let t = Instant::now();
    let (campaign, tasks) = store.create_campaign(&c, now, None).await?;
    let make = t.elapsed();
    let t = Instant::now();
    store.bench_raw_tasks(2).await?;
    let raw_make = raw_first.min(t.elapsed());

    // Visit ingest: devices sending batches of 50 at once, coverage read all the while.
    let districts: Vec<(String, Vec<String>)> = {
        let mut out = Vec::new();
        for d in store.children(&city).await? {
            let code = RegionCode::parse(&d.code).map_err(|e| CliError::Config(e.to_string()))?;
            let kids = store
                .children(&code)
                .await?
                .into_iter()
                .map(|r| r.code)
                .collect();
            out.push((d.code, kids));
        }
        out
    };
    let mut rng = Rng::new(2026);
    let batches: Vec<Vec<VisitIn>> = (0..visits)
        .map(|i| visit(&mut rng, "app", i, tasks, now))
        .collect::<Vec<_>>()
        .chunks(50)
        .map(<[VisitIn]>::to_vec)
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let reader = tokio::spawn(read_coverage(
        store.clone(),
        campaign,
        districts.clone(),
        stop.clone(),
    ));
    let scope = vec![city.clone()];
    // Six devices at once leave two of the pool's eight connections to the coverage reader.
    let devices = 6;
    let t = Instant::now();
    let mut workers = Vec::new();
    for d in 0..devices {
        let (store, scope) = (store.clone(), scope.clone());
        let mine: Vec<Vec<VisitIn>> = batches.iter().skip(d).step_by(devices).cloned().collect();
        workers.push(tokio::spawn(async move {
            for b in &mine {
                store
                    .sync_visits(campaign, "user:bench", None, &scope, b, now)
                    .await?;
            }
            Ok::<(), shezhi_store::StoreError>(())
        }));
    }
    for w in workers {
        w.await.map_err(|e| CliError::Config(e.to_string()))??;
    }
    let ingest = t.elapsed();
    stop.store(true, Ordering::Relaxed);
    let mut reads = reader.await.map_err(|e| CliError::Config(e.to_string()))?;
    reads.sort_by(f64::total_cmp);

    // Raw baseline: the same number of visits as bare batches, from as many devices.
    let raw_batches: Vec<Vec<VisitIn>> = (0..visits)
        .map(|i| visit(&mut rng, "raw", i, tasks, now))
        .collect::<Vec<_>>()
        .chunks(50)
        .map(<[VisitIn]>::to_vec)
        .collect();
    let t = Instant::now();
    let mut workers = Vec::new();
    for d in 0..devices {
        let store = store.clone();
        let mine: Vec<Vec<VisitIn>> = raw_batches
            .iter()
            .skip(d)
            .step_by(devices)
            .cloned()
            .collect();
        workers.push(tokio::spawn(async move {
            for b in &mine {
                store.bench_raw_visits(campaign, b, now).await?;
            }
            Ok::<(), shezhi_store::StoreError>(())
        }));
    }
    for w in workers {
        w.await.map_err(|e| CliError::Config(e.to_string()))??;
    }
    let raw_ingest = t.elapsed();

    // The seeds' pace: 8.75 million households × 3 rounds in 11 days is ~27.6 visits/s on
    // average; the peak hour at ten times that is sent as batches of 10 every ~36 ms.
    let peak = (households as f64 * 3.0 / (11.0 * 86_400.0)) * 10.0;
    let stop = Arc::new(AtomicBool::new(false));
    let reader = tokio::spawn(read_coverage(
        store.clone(),
        campaign,
        districts,
        stop.clone(),
    ));
    let per_batch = 10usize;
    let interval = Duration::from_secs_f64(per_batch as f64 / peak);
    let total = (peak * pace_seconds as f64) as usize / per_batch;
    let mut lags = Vec::with_capacity(total);
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut inflight = Vec::new();
    let start = Instant::now();
    for i in 0..total {
        tick.tick().await;
        let b: Vec<VisitIn> = (0..per_batch)
            .map(|k| visit(&mut rng, "pace", i * per_batch + k, tasks, now))
            .collect();
        let (store, scope) = (store.clone(), scope.clone());
        let sent = Instant::now();
        inflight.push(tokio::spawn(async move {
            store
                .sync_visits(campaign, "user:bench", None, &scope, &b, now)
                .await
                .map(|_| sent.elapsed().as_secs_f64() * 1000.0)
        }));
    }
    for f in inflight {
        lags.push(f.await.map_err(|e| CliError::Config(e.to_string()))??);
    }
    let paced = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    let mut pace_reads = reader.await.map_err(|e| CliError::Config(e.to_string()))?;
    pace_reads.sort_by(f64::total_cmp);
    lags.sort_by(f64::total_cmp);

    // Coverage must equal a recount at the end.
    let recount = store.recount_coverage(campaign, 1).await?;
    let scopes: Vec<String> = recount.keys().cloned().collect();
    let stored = store.coverage(campaign, 1, &scopes).await?;
    let agree = stored == recount;

    let rate = |n: f64, d: Duration| n / d.as_secs_f64().max(1e-9);
    println!("## Household campaigns ({})\n", store.backend().as_str());
    println!(
        "households: {households} over {} micro-grids; tasks made: {tasks} (raw: {raw_rows})\n",
        cells.len()
    );
    println!("| measure | shezhi | raw baseline | ratio |");
    println!("|---|---:|---:|---:|");
    println!(
        "| make a city-wide campaign | {:.1} s ({:.0} rows/s) | {:.1} s ({:.0} rows/s) | {:.2} |",
        make.as_secs_f64(),
        rate(tasks as f64, make),
        raw_make.as_secs_f64(),
        rate(raw_rows as f64, raw_make),
        raw_make.as_secs_f64() / make.as_secs_f64().max(1e-9)
    );
    println!(
        "| ingest visits ({visits}, {devices} devices, batches of 50) | {:.0} visits/s | {:.0} visits/s | {:.2} |",
        rate(visits as f64, ingest),
        rate(visits as f64, raw_ingest),
        raw_ingest.as_secs_f64() / ingest.as_secs_f64().max(1e-9)
    );
    println!(
        "\ncoverage view during ingest (a district and its streets): {} reads, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
        reads.len(),
        percentile(&reads, 0.5),
        percentile(&reads, 0.95),
        percentile(&reads, 0.99)
    );
    println!(
        "seeds' pace, peak hour (10 × {:.1} visits/s = {:.0} visits/s) for {:.0} s: {} visits, send-to-commit lag p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; coverage p95 {:.1} ms",
        peak / 10.0,
        peak,
        paced.as_secs_f64(),
        total * per_batch,
        percentile(&lags, 0.5),
        percentile(&lags, 0.99),
        lags.last().copied().unwrap_or(0.0),
        percentile(&pace_reads, 0.95)
    );
    println!("coverage equals a recount at every level: {agree}");
    store.close().await;
    db.remove().await?;
    if !agree {
        return Err(CliError::Config("coverage differs from the recount".into()));
    }
    Ok(())
}
