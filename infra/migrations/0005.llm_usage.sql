-- LLM usage: one row per provider call (failed calls too, with zero tokens and their outcome), tied to
-- the learner and the turn (the WhatsApp message id). `espaluz costs` prices it with LLM_PRICES.
-- depends: 0001.initial
CREATE TABLE llm_usage (
    id bigserial PRIMARY KEY,
    learner_id uuid NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
    wamid text NOT NULL,
    agent text NOT NULL,
    provider text NOT NULL CHECK (provider IN ('groq', 'claude')),
    model text NOT NULL,
    tokens_in integer NOT NULL DEFAULT 0 CHECK (tokens_in >= 0),
    tokens_out integer NOT NULL DEFAULT 0 CHECK (tokens_out >= 0),
    cache_read_tokens integer NOT NULL DEFAULT 0 CHECK (cache_read_tokens >= 0),
    cache_write_tokens integer NOT NULL DEFAULT 0 CHECK (cache_write_tokens >= 0),
    latency_ms integer NOT NULL DEFAULT 0,
    outcome text NOT NULL DEFAULT 'ok',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX llm_usage_learner_created ON llm_usage (learner_id, created_at);
CREATE INDEX llm_usage_created ON llm_usage (created_at);
CREATE INDEX llm_usage_wamid ON llm_usage (wamid);
