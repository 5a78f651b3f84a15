-- The tutor that writes first (espaluz.scheduler): the learner's timezone and reminder hour, and one row
-- per proactive message chosen by a scheduler pass, keyed by its slot so that overlapping passes or a
-- retried invocation choose it once (the turn ledger then sends it once).
-- depends: 0003.memory 0004.consent 0006.profile
-- An IANA zone. NULL until the scheduler fills it from the phone number's country code
-- (espaluz.scheduler.zones); the learner can change it in "perfil".
ALTER TABLE learners ADD COLUMN timezone text;
-- The local hour of the daily reminder (and of templates); quiet hours are never offered.
ALTER TABLE learners ADD COLUMN reminder_hour smallint NOT NULL DEFAULT 19
    CHECK (reminder_hour BETWEEN 0 AND 23);
CREATE INDEX learners_timezone_missing ON learners (id) WHERE timezone IS NULL;
-- Who may get a reminder at a given local hour: (timezone, reminder_hour) pairs computed for "now".
CREATE INDEX learners_reminder_slot ON learners (timezone, reminder_hour)
    WHERE reminders_consent AND opted_out_at IS NULL;
-- Recent learners (reviews inside the window) and silent ones (re-engagement).
CREATE INDEX learners_last_inbound ON learners (last_inbound_at) WHERE opted_out_at IS NULL;
CREATE INDEX skill_cards_learner_due ON skill_cards (learner_id, due);

CREATE TABLE proactive_messages (
    learner_id uuid NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('review', 'reminder', 'followup', 'reengage')),
    -- review/reminder: the learner's local date; followup: the offer id; reengage: the step and the date
    -- of the last message it follows.
    slot text NOT NULL,
    queued_at timestamptz NOT NULL,
    -- queued: on the tutor's queue; sent: it went out; skipped: the tutor's checks at send time said no.
    status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'skipped')),
    channel text,  -- text, voice or template
    reason text,   -- why it was skipped (opted_out, active, cap, window, marketing...)
    sent_at timestamptz,
    PRIMARY KEY (learner_id, kind, slot)
);
CREATE INDEX proactive_messages_learner_queued ON proactive_messages (learner_id, queued_at);
CREATE INDEX proactive_messages_queued ON proactive_messages (queued_at);
