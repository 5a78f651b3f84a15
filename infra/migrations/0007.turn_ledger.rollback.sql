ALTER TABLE learners DROP COLUMN IF EXISTS learner_key;
DROP TABLE IF EXISTS turn_parts;
ALTER TABLE turns DROP COLUMN IF EXISTS answered_by;
ALTER TABLE turns DROP COLUMN IF EXISTS plan;
-- A released turn may have sent part of its reply: the old code must not answer it again.
UPDATE turns SET status = 'sending' WHERE status = 'released';
ALTER TABLE turns DROP CONSTRAINT turns_status_check;
ALTER TABLE turns ADD CONSTRAINT turns_status_check CHECK (status IN ('claimed', 'sending', 'answered'));
