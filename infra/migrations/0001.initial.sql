-- Learners, turns (idempotency per WhatsApp message id), drill attempts, Stripe events.
-- Learners are keyed by an internal id: a WhatsApp user may have a phone number (wa_id), a
-- business-scoped user id (bsuid), or both.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE learners (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    wa_id text UNIQUE,
    bsuid text UNIQUE,
    display_name text NOT NULL DEFAULT '',
    business_phone_number_id text NOT NULL DEFAULT '',
    level text NOT NULL DEFAULT 'A1',
    dialect text NOT NULL DEFAULT 'latam',
    native_language text NOT NULL DEFAULT 'en',
    plan text NOT NULL DEFAULT 'free',
    plan_status text NOT NULL DEFAULT 'none',
    created_at timestamptz NOT NULL DEFAULT now(),
    last_inbound_at timestamptz,
    CONSTRAINT learners_identity CHECK (wa_id IS NOT NULL OR bsuid IS NOT NULL)
);

CREATE TABLE turns (
    wamid text PRIMARY KEY,
    learner_id uuid NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
    -- claimed: work started, nothing sent (a redelivery may take it over); sending: the reply may have
    -- gone out (a redelivery must not send again); answered: done.
    status text NOT NULL DEFAULT 'claimed' CHECK (status IN ('claimed', 'sending', 'answered')),
    claimed_at timestamptz NOT NULL DEFAULT now(),
    route text,
    received_at timestamptz NOT NULL DEFAULT now(),
    answered_at timestamptz,
    reply_wamids text[] NOT NULL DEFAULT '{}',
    latency_ms integer
);
CREATE INDEX turns_learner_received ON turns (learner_id, received_at);

CREATE TABLE drill_attempts (
    id bigserial PRIMARY KEY,
    learner_id uuid NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
    skill text NOT NULL,
    prompt text NOT NULL,
    expected text NOT NULL,
    answer text NOT NULL,
    verdict text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX drill_attempts_learner ON drill_attempts (learner_id, created_at);

CREATE TABLE stripe_events (
    id text PRIMARY KEY,
    type text NOT NULL,
    created_at timestamptz NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
