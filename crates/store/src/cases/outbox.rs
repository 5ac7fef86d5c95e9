//! Messages for outbound channels (SMS, WeChat): written in the transaction of the step that
//! causes them, taken by a sender after the commit and marked sent, so none is lost and none
//! is sent for a step that rolled back.

use crate::StoreError;
use crate::backend::Store;
use crate::db::Sql;

/// One message waiting to go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub id: i64,
    pub channel: String,
    /// e.g. `case:17:contact`: the sender looks the address up (and unseals it) itself.
    pub recipient: String,
    pub body: String,
    pub at_ms: i64,
}

impl Store {
    /// Up to `limit` unsent messages, oldest first.
    pub async fn outbox_pending(&self, limit: i64) -> Result<Vec<Outgoing>, StoreError> {
        let q = Sql::new(
            "SELECT id, channel, recipient, body, at_ms FROM outbox WHERE sent_at_ms IS NULL \
             ORDER BY id LIMIT $1",
        )
        .bind(limit);
        let rows = self.fetch_all(&q).await?;
        rows.iter()
            .map(|r| {
                Ok(Outgoing {
                    id: r.get(0)?,
                    channel: r.get(1)?,
                    recipient: r.get(2)?,
                    body: r.get(3)?,
                    at_ms: r.get(4)?,
                })
            })
            .collect()
    }

    /// Mark a message sent; false if it was sent already (by another sender).
    pub async fn outbox_sent(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        let q = Sql::new("UPDATE outbox SET sent_at_ms = $1 WHERE id = $2 AND sent_at_ms IS NULL")
            .bind(now)
            .bind(id);
        Ok(self.execute(&q).await? == 1)
    }
}
