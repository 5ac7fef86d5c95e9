-- A reporter's own cases, newest first (the resident's "my reports" list): found through
-- this index rather than by walking every case from the newest back.
CREATE INDEX cases_reporter ON cases (reporter, created_at_ms, id);
