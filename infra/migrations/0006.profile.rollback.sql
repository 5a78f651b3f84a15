ALTER TABLE learners DROP COLUMN onboarded_at;
ALTER TABLE learners DROP COLUMN reminders_consent_at;
ALTER TABLE learners DROP COLUMN reminders_consent;
ALTER TABLE learners DROP COLUMN goals;
