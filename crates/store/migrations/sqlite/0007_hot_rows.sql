-- SQLite has no page fill factor; the PostgreSQL side of this migration leaves free space
-- on the pages of rows that every step updates.
SELECT 1;
