-- Counter deltas as the step writer leaves them: one row per transaction, its deltas in
-- four parallel arrays (scope, metric, day, value). Writers only insert here, so a step never
-- waits on a counter row another step holds; a background fold adds the rows into
-- case_counters and deletes them in one transaction. Every read of the counters adds the
-- rows not yet folded, so a figure is the same before and after a fold.
CREATE TABLE case_counter_log (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scopes  TEXT[] NOT NULL,
    metrics TEXT[] NOT NULL,
    days    BIGINT[] NOT NULL,
    deltas  BIGINT[] NOT NULL
);

-- The counters as readers see them: folded rows and the log's rows not yet folded. Readers
-- sum by (scope, metric, day); one statement sees one snapshot, and a fold moves rows from
-- the log into case_counters in one transaction, so no delta is seen twice or missed.
CREATE VIEW case_counts AS
    SELECT scope, metric, day, value FROM case_counters
    UNION ALL
    SELECT x.scope COLLATE "C", x.metric, x.day, x.value
    FROM case_counter_log l
    CROSS JOIN LATERAL unnest(l.scopes, l.metrics, l.days, l.deltas) AS x(scope, metric, day, value);
