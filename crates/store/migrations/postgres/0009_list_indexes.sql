-- A reporter's own cases, newest first (the resident's "my reports" list): found through
-- this index rather than by walking every case from the newest back.
CREATE INDEX cases_reporter ON cases (reporter, created_at_ms, id);

-- Lists of a large territory (a street, a district, the city), most urgent first: walked in
-- deadline order, the territory checked on the index entry itself, until a page is full;
-- no sort of every case the territory has. The expression is the list's order.
CREATE INDEX cases_due ON cases ((COALESCE(due_at_ms, 9000000000000000)), id, cell_code);
