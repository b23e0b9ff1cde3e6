-- A meter replaced by another in the same home (`replaced` in the
-- household's config): the meter that took its place, and when the
-- processor retired the old one (handed what it learned to the new one and
-- resolved its alerts). A retired meter is watched no more and its readings
-- are refused; listing it in a household's `meters` again clears both.
ALTER TABLE meters ADD COLUMN replaced_by TEXT;
ALTER TABLE meters ADD COLUMN retired_ms INTEGER;
