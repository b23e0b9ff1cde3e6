-- A household whose resident withdrew consent: its data is purged and its
-- meters' readings are refused until consent is given again.
ALTER TABLE households ADD COLUMN withdrawn_ms BIGINT;
