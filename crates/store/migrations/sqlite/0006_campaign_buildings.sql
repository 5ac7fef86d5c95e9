-- A campaign may be limited to one building type (by height or by the kind of compound).
ALTER TABLE campaigns ADD COLUMN building_type TEXT;
