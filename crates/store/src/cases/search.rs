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
use crate::backend::{ROWS_PER_STATEMENT, Store, sized_chunks};
use crate::db::{IndexedText, Sql};
use shezhi_domain::search::{TextQuery, places};
use shezhi_domain::territory::{Level, RegionCode};

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
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        // A write first: SQLite's write lock, PostgreSQL's row lock, held to the commit.
        let progress = Sql::new(
            "UPDATE search_progress SET last_id = last_id WHERE name = 'cases' RETURNING last_id",
        );
        let last: i64 = conn.fetch_one(&progress).await?.get(0)?;
        let read = Sql::new(
            "SELECT id, title, description, address, cell_code FROM cases WHERE id > $1 \
             ORDER BY id LIMIT $2",
        )
        .bind(last)
        .bind(batch);
        let mut rows: Vec<(i64, String, String, String, Vec<String>)> = Vec::new();
        for r in conn.fetch_all(&read).await? {
            let cell: String = r.get(4)?;
            let places = RegionCode::parse(&cell)
                .map(|c| places(&c))
                .unwrap_or_default();
            rows.push((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, places));
        }
        let Some(next) = rows.last().map(|r| r.0) else {
            return Ok(0);
        };
        let backend = conn.backend();
        for chunk in sized_chunks(&rows, ROWS_PER_STATEMENT) {
            let texts: Vec<IndexedText> = chunk
                .iter()
                .map(|(id, t, d, a, places)| IndexedText {
                    id: *id,
                    fields: [t, d, a],
                    places,
                })
                .collect();
            conn.execute(&backend.index_text(&texts)).await?;
        }
        let done =
            Sql::new("UPDATE search_progress SET last_id = $1 WHERE name = 'cases'").bind(next);
        conn.execute(&done).await?;
        tx.commit().await?;
        Ok(rows.len() as u64)
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
        let q = Sql::new(
            "SELECT COALESCE((SELECT MAX(id) FROM cases), 0) - \
             (SELECT last_id FROM search_progress WHERE name = 'cases')",
        );
        Ok(self.fetch_one(&q).await?.get(0)?)
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
        let mut pooled = self.acquire().await?;
        let mut conn = pooled.conn();
        let unindexed = Sql::new(
            "SELECT id, title, description, address FROM cases \
             WHERE id > (SELECT last_id FROM search_progress WHERE name = 'cases') \
             ORDER BY id DESC LIMIT $1",
        )
        .bind(UNINDEXED_MATCHED);
        for r in conn.fetch_all(&unindexed).await? {
            let (t, d, a): (String, String, String) = (r.get(1)?, r.get(2)?, r.get(3)?);
            if query.matches(&[&t, &d, &a]) {
                ids.push(r.get(0)?);
            }
        }
        for n in &query.numbers {
            let by_number = Sql::new("SELECT id FROM cases WHERE number = $1").bind(n.as_str());
            if let Some(r) = conn.fetch_optional(&by_number).await? {
                ids.push(r.get(0)?);
            }
        }
        let mut conds = Vec::new();
        if !query.phrases.is_empty() {
            // The territory goes to the index too, unless it is the whole city.
            let places: Vec<&str> = match scopes {
                Some(s) if !s.iter().any(|r| r.level() == Level::City) => {
                    s.iter().map(RegionCode::as_str).collect()
                }
                _ => Vec::new(),
            };
            conds.push(TextCond::Index(self.backend().text_query(&query, &places)));
        }
        if !ids.is_empty() {
            conds.push(TextCond::Ids(
                serde_json::to_string(&ids).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            ));
        }
        Ok(Some(conds))
    }
}
