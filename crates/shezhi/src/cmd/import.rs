//! `shezhi import`: divisions (CSV) and grids (GeoJSON) supplied by a city. Every row is
//! checked first; one bad row rejects the whole file, listed by line number.

use super::{CliError, open_store};
use crate::config::{Config, ImportArgs, ImportWhat};
use shezhi_domain::geometry::Shape;
use shezhi_domain::territory::cells::{check_communities, parse_cells};
use shezhi_domain::territory::division::parse_divisions;
use shezhi_domain::territory::{Level, RegionCode, RegionRecord};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| CliError::io(&path.display().to_string(), e))
}

pub async fn run(cfg: &Config, args: ImportArgs) -> Result<(), CliError> {
    let store = open_store(cfg, cfg.database_url()).await?;
    let result = match args.what {
        ImportWhat::Divisions { file } => divisions(&store, &read(&file)?).await,
        ImportWhat::Grids { file } => grids(&store, &read(&file)?).await,
    };
    store.close().await;
    result
}

async fn divisions(store: &shezhi_store::Store, text: &str) -> Result<(), CliError> {
    // Parent codes named by the file that may already be in the database.
    let parents: Vec<String> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.rsplit(',').next())
        .map(|p| p.trim().trim_matches('"').to_string())
        .filter(|p| !p.is_empty())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let known: HashSet<String> = store.existing_codes(&parents).await?.into_iter().collect();
    let rows = parse_divisions(text, &|c| known.contains(c.as_str())).map_err(CliError::Rows)?;
    store.upsert_divisions(&rows).await?;
    println!(
        "导入区划 {} 条 / imported {} divisions",
        rows.len(),
        rows.len()
    );
    Ok(())
}

async fn grids(store: &shezhi_store::Store, text: &str) -> Result<(), CliError> {
    let (cells, mut errors) = parse_cells(text);
    let community_codes: BTreeSet<RegionCode> = cells
        .iter()
        .filter(|c| c.record.level() == Level::Grid)
        .filter_map(|c| c.record.parent.clone())
        .collect();
    let mut communities: HashMap<RegionCode, Option<Shape>> = HashMap::new();
    for code in &community_codes {
        if store
            .region(code)
            .await?
            .is_some_and(|r| r.level == Level::Community)
        {
            let shape = match store.geometry(code).await? {
                Some(g) => serde_json::from_str(&g)
                    .ok()
                    .and_then(|v| Shape::from_geojson(&v).ok()),
                None => None,
            };
            communities.insert(code.clone(), shape);
        }
    }
    errors.extend(check_communities(&cells, &communities));
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(CliError::Rows(errors));
    }
    // Grids before their micro-grids.
    let mut records: Vec<RegionRecord> = cells.into_iter().map(|c| c.record).collect();
    records.sort_by_key(|r| (r.level(), r.code.clone()));
    let scope: Vec<RegionCode> = community_codes.into_iter().collect();
    store.replace_cells(&scope, &records).await?;
    println!(
        "导入网格 {} 个，涉及社区 {} 个 / imported {} cells in {} communities",
        records.len(),
        scope.len(),
        records.len(),
        scope.len()
    );
    Ok(())
}
