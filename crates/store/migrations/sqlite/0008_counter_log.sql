-- SQLite has one writer at a time, which adds its counter deltas to case_counters directly;
-- the counter log is PostgreSQL's (see its 0008). Readers read the same view on both.
CREATE VIEW case_counts AS SELECT scope, metric, day, value FROM case_counters;
