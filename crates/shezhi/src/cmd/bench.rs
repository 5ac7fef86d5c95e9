//! `shezhi bench`: measurements anyone can rerun, each against a raw baseline taken in the
//! same run on the same machine.

use super::CliError;
use crate::config::{BenchArgs, BenchWhat, Config};
use rand::{Rng, SeedableRng};
use shezhi_domain::geocode::{CELL_DEG, GridIndex, PolygonSet};
use shezhi_domain::geometry::{Point, Shape};
use shezhi_domain::territory::Level;
use shezhi_domain::territory::generate::chengdu;
use std::hint::black_box;
use std::time::Instant;

pub async fn run(_cfg: &Config, args: BenchArgs) -> Result<(), CliError> {
    match args.what {
        BenchWhat::Geocode {
            lookups,
            scan_lookups,
        } => geocode(lookups.max(1), scan_lookups.max(1)),
        BenchWhat::Load {
            scale,
            backend,
            at,
            keep,
        } => super::bench_load::load(scale, backend, at.as_deref(), keep).await,
        BenchWhat::Cases {
            backend,
            at,
            reports,
            writers,
            lifecycles,
            movers,
        } => {
            super::bench_cases::run(
                backend,
                at.as_deref(),
                reports.max(1),
                writers.max(1),
                lifecycles.max(1),
                movers.max(1),
            )
            .await
        }
        BenchWhat::Campaigns {
            backend,
            at,
            households,
            visits,
            pace_seconds,
        } => {
            super::bench_campaigns::run(
                backend,
                at.as_deref(),
                households.max(1),
                visits.max(50),
                pace_seconds.max(1),
            )
            .await
        }
        BenchWhat::Scale {
            backend,
            at,
            cases,
            minutes,
            keep,
        } => {
            super::bench_scale::run(backend, at.as_deref(), cases.max(1), minutes.max(1), keep)
                .await
        }
    }
}

/// Points where people are: a random micro-grid (micro-grids hold similar numbers of
/// households), then a random point inside it.
fn resident_points(set: &PolygonSet, n: usize, rng: &mut impl Rng) -> Vec<Point> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let i = rng.random_range(0..set.len());
        let b = set.bbox(i).0;
        let p = [rng.random_range(b[0]..=b[2]), rng.random_range(b[1]..=b[3])];
        if set.contains(i, p) {
            out.push(p);
        }
    }
    out
}

fn rate(n: usize, secs: f64) -> f64 {
    n as f64 / secs.max(1e-9)
}

fn geocode(lookups: usize, scan_lookups: usize) -> Result<(), CliError> {
    let t = Instant::now();
    let territory = chengdu().map_err(CliError::Config)?;
    let leaves: Vec<&Shape> = territory
        .iter()
        .filter(|r| r.level() == Level::MicroGrid)
        .filter_map(|r| r.shape.as_ref())
        .collect();
    let generated = t.elapsed();
    let t = Instant::now();
    let index = GridIndex::build(PolygonSet::new(&leaves), CELL_DEG);
    let built = t.elapsed();
    let set = index.polygons();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    let pool = resident_points(set, 1 << 20, &mut rng);
    let city = territory[0]
        .shape
        .as_ref()
        .map(Shape::bbox)
        .ok_or_else(|| CliError::Config("city has no shape".into()))?;
    let uniform: Vec<Point> = (0..1 << 20)
        .map(|_| {
            [
                rng.random_range(city.0[0]..=city.0[2]),
                rng.random_range(city.0[1]..=city.0[3]),
            ]
        })
        .collect();

    // Agreement first: the index must answer as the scan does.
    let mut agree = 0;
    for p in pool
        .iter()
        .take(scan_lookups)
        .chain(uniform.iter().take(scan_lookups))
    {
        agree += usize::from(index.locate(*p) == set.scan(*p));
    }

    let time = |points: &[Point], n: usize, f: &dyn Fn(Point) -> Option<usize>| {
        let t = Instant::now();
        let mut hits = 0usize;
        for k in 0..n {
            hits += usize::from(black_box(f(black_box(points[k & (points.len() - 1)]))).is_some());
        }
        (rate(n, t.elapsed().as_secs_f64()), hits)
    };
    let (idx_res, _) = time(&pool, lookups, &|p| index.locate(p));
    let (idx_uni, hits_uni) = time(&uniform, lookups, &|p| index.locate(p));
    let (scan_res, _) = time(&pool, scan_lookups, &|p| set.scan(p));
    let (scan_uni, _) = time(&uniform, scan_lookups, &|p| set.scan(p));

    println!("## Point → micro-grid lookup (one core)\n");
    println!(
        "micro-grids: {}, index cells: {}, generation {:.2?}, index build {:.2?}",
        set.len(),
        index.cell_count(),
        generated,
        built
    );
    println!(
        "index and scan agree on {agree} of {} points\n",
        2 * scan_lookups
    );
    println!("| points | index lookups/s | brute-force scan lookups/s | speed-up |");
    println!("|---|---:|---:|---:|");
    println!(
        "| where residents live (random micro-grid) | {:.0} | {:.0} | {:.0}× |",
        idx_res,
        scan_res,
        idx_res / scan_res
    );
    println!(
        "| uniform over the city's bounding box ({:.0}% inside) | {:.0} | {:.0} | {:.0}× |",
        100.0 * hits_uni as f64 / lookups as f64,
        idx_uni,
        scan_uni,
        idx_uni / scan_uni
    );
    if agree != 2 * scan_lookups {
        return Err(CliError::Config(format!(
            "index disagreed with the scan on {} points",
            2 * scan_lookups - agree
        )));
    }
    Ok(())
}
