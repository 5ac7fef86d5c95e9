-- Text search over cases (shezhi_domain::search): the terms of each case's title,
-- description and address with their positions, and the codes of the regions it lies in
-- as `@code`, as built by the application (a literal tsvector, so no text search
-- configuration is involved), under a GIN index.
-- The search indexer writes them after intake, in id order; `search_progress` holds the last
-- case indexed, and cases after it are matched in memory.
CREATE TABLE case_search (
    case_id BIGINT PRIMARY KEY,
    terms   TSVECTOR NOT NULL
);
CREATE INDEX case_search_terms ON case_search USING gin (terms);
CREATE TABLE search_progress (
    name    TEXT PRIMARY KEY NOT NULL,
    last_id BIGINT NOT NULL
);
INSERT INTO search_progress (name, last_id) VALUES ('cases', 0);
