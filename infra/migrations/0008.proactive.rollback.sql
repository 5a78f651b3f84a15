DROP TABLE proactive_messages;
DROP INDEX skill_cards_learner_due;
DROP INDEX learners_last_inbound;
DROP INDEX learners_reminder_slot;
DROP INDEX learners_timezone_missing;
ALTER TABLE learners DROP COLUMN reminder_hour;
ALTER TABLE learners DROP COLUMN timezone;
