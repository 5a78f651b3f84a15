-- Consent on the WhatsApp channel: STOP/BAJA (nothing proactive) and "stop promotions" (no marketing
-- templates; from the user_preferences webhook or error 131050). Replies to a learner's own message are
-- not affected by either.
-- depends: 0001.initial
ALTER TABLE learners ADD COLUMN opted_out_at timestamptz;
ALTER TABLE learners ADD COLUMN marketing_opt_out boolean NOT NULL DEFAULT false;
-- When the marketing preference last changed: preference webhooks arrive unordered; older ones lose.
ALTER TABLE learners ADD COLUMN marketing_pref_at timestamptz;
