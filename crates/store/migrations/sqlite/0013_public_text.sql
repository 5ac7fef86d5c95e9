-- What the public may read of a case: a description that staff wrote or approved, with
-- personal details removed (the reporter's own words stay private), and when it was last
-- published. NULL: nothing published; Open311 and the duplicate hint then give no text.
ALTER TABLE cases ADD COLUMN public_text TEXT;
ALTER TABLE cases ADD COLUMN public_at_ms INTEGER;
