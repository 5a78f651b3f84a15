-- Billing: Stripe customers and subscriptions mirrored per learner, entitlements derived from them,
-- offers (with their bonus and next-day follow-up) and the learner's offer preferences.
-- depends: 0001.initial

-- Which learner a Stripe customer belongs to (filled from checkout.session.completed and from
-- subscription metadata, so later events that carry only the customer id find the learner).
CREATE TABLE billing_customers (
    customer_id text PRIMARY KEY,
    learner_id uuid NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX billing_customers_learner ON billing_customers (learner_id);

-- The last state of each subscription as read back from Stripe's API (never from an event payload
-- alone, so that events arriving out of order cannot roll the state back).
CREATE TABLE subscriptions (
    id text PRIMARY KEY,
    learner_id uuid NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
    customer_id text NOT NULL DEFAULT '',
    status text NOT NULL DEFAULT 'incomplete',
    price_id text NOT NULL DEFAULT '',
    current_period_end timestamptz,
    cancel_at_period_end boolean NOT NULL DEFAULT false,
    ended_at timestamptz,
    synced_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_learner ON subscriptions (learner_id);

-- What a learner may use now: one row per learner, recomputed from all their subscriptions in the
-- transaction that records the Stripe event. learners.plan / plan_status mirror plan and status.
CREATE TABLE entitlements (
    learner_id uuid PRIMARY KEY REFERENCES learners (id) ON DELETE CASCADE,
    plan text NOT NULL DEFAULT 'free',
    status text NOT NULL DEFAULT 'none',
    features text[] NOT NULL DEFAULT '{}',
    subscription_id text,
    customer_id text,
    valid_until timestamptz,
    cancel_at_period_end boolean NOT NULL DEFAULT false,
    last_event_id text,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Offers made in chat at a high-engagement moment, and what came of them.
CREATE TABLE offers (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    learner_id uuid NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
    moment text NOT NULL,
    value_line text NOT NULL,
    bonus_feature text,
    bonus_until timestamptz,
    offered_at timestamptz NOT NULL DEFAULT now(),
    response text CHECK (response IN ('accepted', 'declined')),
    responded_at timestamptz,
    checkout_session_id text,
    converted_at timestamptz,
    followup_due_at timestamptz,
    followup_status text NOT NULL DEFAULT 'none'
        CHECK (followup_status IN ('none', 'scheduled', 'sent', 'skipped')),
    followup_channel text
);
CREATE INDEX offers_learner ON offers (learner_id, offered_at);
CREATE INDEX offers_followup_due ON offers (followup_due_at) WHERE followup_status = 'scheduled';

-- Per-learner preferences that the offer policy respects.
CREATE TABLE offer_preferences (
    learner_id uuid PRIMARY KEY REFERENCES learners (id) ON DELETE CASCADE,
    marketing_consent boolean NOT NULL DEFAULT false,
    receives_voice boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now()
);
