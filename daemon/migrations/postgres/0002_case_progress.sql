-- Escalation progress, route, acknowledgement and closure of a case (JSON),
-- beside the columns kept for queries.
ALTER TABLE cases ADD COLUMN route TEXT NOT NULL DEFAULT 'default';
ALTER TABLE cases ADD COLUMN state TEXT NOT NULL DEFAULT '{}';
ALTER TABLE cases ADD COLUMN closed_by TEXT;
ALTER TABLE cases ADD COLUMN note TEXT;
