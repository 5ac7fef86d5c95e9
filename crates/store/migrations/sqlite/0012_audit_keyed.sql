-- The audit chain's links are HMAC-SHA-256 under a key kept outside the database from the
-- entry `keyed_from` on (that entry is the marker `audit.keyed`); NULL: the chain is not
-- keyed (yet). Entries before it keep their plain SHA-256 links.
ALTER TABLE audit_head ADD COLUMN keyed_from BIGINT;
