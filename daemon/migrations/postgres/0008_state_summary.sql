-- What the dashboard's overview needs of each meter's engine state, written
-- with the state so listing households parses no JSON: the days with water
-- use its baseline has seen, and whether a meter_offline alert is active
-- (0 or 1). NULL where the state was written before this migration (SQL
-- cannot read it): the dashboard then reads that meter's state itself, until
-- the processor next saves it.
ALTER TABLE meters ADD COLUMN baseline_days BIGINT;
ALTER TABLE meters ADD COLUMN offline BIGINT;
