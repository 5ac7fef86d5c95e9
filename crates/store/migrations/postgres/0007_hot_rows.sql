-- Rows that every step updates (counters, the case itself) keep free space on their pages,
-- so that an update can stay on the page (a heap-only tuple, no new index entries) when no
-- indexed column changes. Applies to pages written from now on.
ALTER TABLE case_counters SET (fillfactor = 70);
ALTER TABLE cases SET (fillfactor = 85);
