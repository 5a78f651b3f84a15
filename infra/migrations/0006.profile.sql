-- The learner profile that onboarding fills in: goals, consent to study reminders, and when onboarding
-- ended (finished or skipped). level, dialect and native_language already exist on learners (0001).
-- Streaks are computed from turns (consecutive days with a turn), so no counter is stored here.
-- depends: 0001.initial
ALTER TABLE learners ADD COLUMN goals text[] NOT NULL DEFAULT '{}';
-- NULL: never asked; true/false: the learner's answer. Separate from opted_out_at (STOP/BAJA), which
-- silences everything proactive whatever this says.
ALTER TABLE learners ADD COLUMN reminders_consent boolean;
ALTER TABLE learners ADD COLUMN reminders_consent_at timestamptz;
-- NULL: onboarding not done yet. Learners who existed before this migration are not onboarded again.
ALTER TABLE learners ADD COLUMN onboarded_at timestamptz;
UPDATE learners SET onboarded_at = created_at WHERE onboarded_at IS NULL;
