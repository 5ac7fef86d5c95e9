//! Text search over cases. The search indexer ([`Store::index_case_text`]) writes the terms of
//! each case's title, description and address (`shezhi_domain::search`) after intake, in id
//! order, and records the last case it indexed. A list asked for words reads the matching
//! cases from the index, plus the cases not yet indexed, matched in memory, plus any case
//! whose readable number the query names ([`Store::text_conditions`]).
//!
//! Indexing in id order is complete because a case's id is taken, under a lock held until
//! the transaction ends, from `id_sequences`: cases commit in id order, so none can appear
//! later below the recorded mark.

use crate::StoreError;
use crate::backend::{ROWS_PER_STATEMENT, Store, sized_chunks, with_pool};
use shezhi_domain::search::{TextQuery, places, terms, tsvector, within_places};
use shezhi_domain::territory::{Level, RegionCode};
use sqlx::Row;

/// Cases indexed in one transaction of the indexer.
pub const INDEX_BATCH: i64 = 2_000;

/// Most cases not yet indexed that a search matches in memory, newest first. The indexer
/// normally trails intake by less than a second; after an upgrade of a large database, the
/// older cases it has not reached yet are found once it does.
pub const UNINDEXED_MATCHED: i64 = 5_000;

/// One condition a list's words read; a list with words reads each of its conditions and
/// merges the pages.
#[derive(Debug, Clone)]
pub(crate) enum TextCond {
    /// The query in the database's own syntax, against the index.
    Index(String),
    /// Ids found besides (cases not yet indexed that match, cases named by number), as a
    /// JSON array.
    Ids(String),
}

impl Store {
    /// Index the next cases after the last one indexed, up to `batch`; returns how many.
    /// Several servers may run it at once: the progress row serialises them.
    pub async fn index_case_text(&self, batch: i64) -> Result<u64, StoreError> {
        with_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            // A write first: SQLite's write lock, PostgreSQL's row lock, held to the commit.
            let last: i64 = sqlx::query_scalar("UPDATE search_progress SET last_id = last_id WHERE name = 'cases' RETURNING last_id")
                .fetch_one(&mut *tx).await?;
            let rows: Vec<(i64, String, String, String, Vec<String>)> = sqlx::query("SELECT id, title, description, address, cell_code FROM cases WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(last).bind(batch)
                .fetch_all(&mut *tx).await?
                .iter().map(|r| {
                    let cell: String = r.try_get(4)?;
                    let places = RegionCode::parse(&cell).map(|c| places(&c)).unwrap_or_default();
                    Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, places))
                })
                .collect::<Result<_, sqlx::Error>>()?;
            let Some(next) = rows.last().map(|r| r.0) else {
                return Ok(0);
            };
            let sqlite = std::any::TypeId::of::<DB>() == std::any::TypeId::of::<sqlx::Sqlite>();
            for chunk in sized_chunks(&rows, ROWS_PER_STATEMENT) {
                if sqlite {
                    let mut qb = sqlx::QueryBuilder::<DB>::new("INSERT INTO case_search (rowid, title, description, address, place) ");
                    qb.push_values(chunk, |mut b, (id, t, d, a, places)| {
                        b.push_bind(*id).push_bind(terms(t).join(" ")).push_bind(terms(d).join(" ")).push_bind(terms(a).join(" "))
                            .push_bind(places.join(" "));
                    });
                    qb.build().execute(&mut *tx).await?;
                } else {
                    let mut qb = sqlx::QueryBuilder::<DB>::new("INSERT INTO case_search (case_id, terms) ");
                    qb.push_values(chunk, |mut b, (id, t, d, a, places)| {
                        b.push_bind(*id).push("CAST(").push_bind_unseparated(tsvector(&[t, d, a], places)).push_unseparated(" AS tsvector)");
                    });
                    qb.build().execute(&mut *tx).await?;
                }
            }
            sqlx::query("UPDATE search_progress SET last_id = $1 WHERE name = 'cases'")
                .bind(next).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(rows.len() as u64)
        })
    }

    /// Index every case not yet indexed.
    pub async fn index_all_case_text(&self) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let n = self.index_case_text(INDEX_BATCH).await?;
            total += n;
            if n < INDEX_BATCH as u64 {
                return Ok(total);
            }
        }
    }

    /// How many cases the indexer has not reached yet: the newest id less the last indexed
    /// (ids are dense: each is taken from `id_sequences` in the transaction that writes the
    /// case), two reads of a primary key however far behind the indexer is.
    pub async fn unindexed_cases(&self) -> Result<i64, StoreError> {
        Ok(with_pool!(self, p => {
            sqlx::query_scalar::<_, i64>("SELECT COALESCE((SELECT MAX(id) FROM cases), 0) - (SELECT last_id FROM search_progress WHERE name = 'cases')")
                .fetch_one(p).await?
        }))
    }

    /// The conditions the filter's words read within `scopes` (the list's territory): None
    /// when it has no words that ask for anything; an empty list when nothing can match.
    pub(crate) async fn text_conditions(
        &self,
        scopes: Option<&[RegionCode]>,
        f: &super::CaseFilter,
    ) -> Result<Option<Vec<TextCond>>, StoreError> {
        let Some(query) = f.text.as_deref().and_then(TextQuery::parse) else {
            return Ok(None);
        };
        let mut ids: Vec<i64> = Vec::new();
        with_pool!(self, p => {
            let unindexed = sqlx::query("SELECT id, title, description, address FROM cases \
                                         WHERE id > (SELECT last_id FROM search_progress WHERE name = 'cases') ORDER BY id DESC LIMIT $1")
                .bind(UNINDEXED_MATCHED).fetch_all(p).await?;
            for r in &unindexed {
                let (t, d, a): (String, String, String) = (r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
                if query.matches(&[&t, &d, &a]) {
                    ids.push(r.try_get(0)?);
                }
            }
            for n in &query.numbers {
                if let Some(id) = sqlx::query_scalar::<_, i64>("SELECT id FROM cases WHERE number = $1").bind(n.as_str()).fetch_optional(p).await? {
                    ids.push(id);
                }
            }
        });
        let mut conds = Vec::new();
        if !query.phrases.is_empty() {
            // The territory goes to the index too, unless it is the whole city.
            let places: Vec<&str> = match scopes {
                Some(s) if !s.iter().any(|r| r.level() == Level::City) => {
                    s.iter().map(RegionCode::as_str).collect()
                }
                _ => Vec::new(),
            };
            conds.push(TextCond::Index(match self.backend() {
                crate::Backend::Sqlite => within_places(&query.fts5(), &places, true),
                crate::Backend::Postgres => within_places(&query.tsquery(), &places, false),
            }));
        }
        if !ids.is_empty() {
            conds.push(TextCond::Ids(
                serde_json::to_string(&ids).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            ));
        }
        Ok(Some(conds))
    }
}
