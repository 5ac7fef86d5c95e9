-- Text search over cases (shezhi_domain::search): the terms of each case's title,
-- description and address, space-separated, and the codes of the regions it lies in
-- (`place`), in an FTS5 index without a copy of the text.
-- The search indexer writes them after intake, in id order; `search_progress` holds the last
-- case indexed, and cases after it are matched in memory.
CREATE VIRTUAL TABLE case_search USING fts5(
    title, description, address, place,
    content = '',
    tokenize = 'unicode61 remove_diacritics 0'
);
CREATE TABLE search_progress (
    name    TEXT PRIMARY KEY NOT NULL,
    last_id BIGINT NOT NULL
);
INSERT INTO search_progress (name, last_id) VALUES ('cases', 0);
