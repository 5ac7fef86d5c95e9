//! `GET requests.{fmt}`: service requests by id, or by service, status and a window of at
//! most 90 days, newest first, at most 1000.

use super::wire::{Doc, Fail, parse_w3c};
use super::{MAX_RESULTS, Params, bad, by_number, jurisdiction, names, request_record};
use crate::AppState;
use shezhi_domain::cases::Stage;
use shezhi_store::cases::CaseSummary;

/// The span of dates a list may cover (per the spec).
const SPAN_MS: i64 = 90 * 86_400_000;

/// The stages a `status` list asks for (none: every stage).
fn stages(p: &Params) -> Result<Vec<String>, Fail> {
    let (mut open, mut closed) = (false, false);
    for st in p.list("status") {
        match st.as_str() {
            "open" => open = true,
            "closed" => closed = true,
            _ => {
                return Err(bad(
                    "status must be open or closed",
                    "status 须为 open 或 closed",
                ));
            }
        }
    }
    if open == closed {
        return Ok(Vec::new());
    }
    Ok(Stage::ALL
        .iter()
        .filter(|st| st.is_final() == closed)
        .map(|st| st.as_str().to_string())
        .collect())
}

/// The range of requested times a list covers: the spec's 90 days, ending now by default.
fn window(p: &Params, now: i64) -> Result<(i64, i64), Fail> {
    let date = |name: &str| {
        p.get(name)
            .map(|v| {
                parse_w3c(v).ok_or_else(|| {
                    bad(
                        &format!("{name} must be a W3C datetime such as 2026-11-23T10:00:00+08:00"),
                        &format!("{name} 须为 W3C 日期时间，如 2026-11-23T10:00:00+08:00"),
                    )
                })
            })
            .transpose()
    };
    let (start, end) = match (date("start_date")?, date("end_date")?) {
        (Some(a), Some(b)) => (a, b),
        (Some(a), None) => (a, a + SPAN_MS),
        (None, Some(b)) => (b - SPAN_MS, b),
        (None, None) => (now - SPAN_MS, now),
    };
    if start > end {
        return Err(bad(
            "start_date is after end_date",
            "start_date 晚于 end_date",
        ));
    }
    if end - start > SPAN_MS {
        return Err(bad(
            "start_date and end_date may span at most 90 days",
            "start_date 与 end_date 相隔不得超过 90 天",
        ));
    }
    Ok((start, end))
}

pub(super) async fn requests(s: &AppState, p: &Params) -> Result<Doc, Fail> {
    jurisdiction(s, p).await?;
    let ids = p.list("service_request_id");
    let mut found = Vec::new();
    if !ids.is_empty() {
        if ids.len() > MAX_RESULTS {
            return Err(bad(
                "at most 1000 service_request_id at once",
                "一次最多查询 1000 个 service_request_id",
            ));
        }
        // The ids override every other parameter (per the spec).
        for id in &ids {
            found.extend(by_number(s, id).await?);
        }
    } else {
        let (start, end) = window(p, s.clock.now_ms())?;
        let stages = stages(p)?;
        let codes = p.list("service_code");
        let codes: Vec<Option<String>> = if codes.is_empty() {
            vec![None]
        } else {
            codes.into_iter().map(Some).collect()
        };
        // The store lists cases most urgent first; the newest in the window are kept here.
        // Each category is one index range, newest first; the merge keeps the newest 1000.
        for category in codes {
            found.extend(
                s.store
                    .cases_raised(category.as_deref(), &stages, start, end, MAX_RESULTS as i64)
                    .await?,
            );
        }
        newest(&mut found);
    }
    let n = names(s).await?;
    let public = super::public(s, &found).await?;
    Ok(Doc::List {
        root: "service_requests",
        item: "request",
        records: found
            .iter()
            .map(|c| request_record(c, &n, &public))
            .collect(),
    })
}

fn newest(found: &mut Vec<CaseSummary>) {
    found.sort_by_key(|c| std::cmp::Reverse((c.created_at_ms, c.id)));
    found.truncate(MAX_RESULTS);
}
