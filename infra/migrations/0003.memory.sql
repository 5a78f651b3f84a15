-- Pedagogical memory: memories with their embeddings, the embedding configuration of this deployment,
-- FSRS cards per (learner, skill), review items born from corrections, and a rolling summary.
-- depends: 0001.initial

-- One row: the embedding dimension of this deployment (it is also the vector(N) type of
-- memories.embedding below) and the embedder that wrote the vectors. The embedder is claimed by the first
-- process that starts with memory on; a process configured with another embedder or dimension refuses to
-- start. Changing either is a migration (new column type, re-embedding), never a silent mismatch.
CREATE TABLE memory_embedding (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    dimension integer NOT NULL CHECK (dimension > 0),
    embedder text,
    claimed_at timestamptz
);
INSERT INTO memory_embedding (dimension) VALUES (512);

CREATE TABLE memories (
    id bigserial PRIMARY KEY,
    learner_id uuid NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('new_concept', 'error_correction', 'complex_success',
                                       'routine_practice', 'cultural_context', 'preference', 'conversation')),
    content text NOT NULL,
    skills text[] NOT NULL DEFAULT '{}',
    performance text NOT NULL DEFAULT 'none' CHECK (performance IN ('correct', 'partial', 'wrong', 'none')),
    engagement real NOT NULL DEFAULT 1.0,
    importance real NOT NULL CHECK (importance >= 0),
    embedding vector(512) NOT NULL,
    source_wamid text,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- 512 float4 = 2 KB: stored inline (PLAIN), not TOASTed, so reading a learner's vectors costs no TOAST
-- lookups (a row fits in a page easily; dimensions up to ~1,900 would).
ALTER TABLE memories ALTER COLUMN embedding SET STORAGE PLAIN;
-- Stage 1 of retrieval reads one learner's memories through this B-tree and orders them exactly by
-- distance (bench/bench_memory.py: per-learner exact search beats HNSW, which filters after its scan).
CREATE INDEX memories_learner_created ON memories (learner_id, created_at);

CREATE TABLE skill_cards (
    learner_id uuid NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
    skill text NOT NULL,
    card jsonb NOT NULL,
    due timestamptz NOT NULL,
    reviews integer NOT NULL DEFAULT 0,
    lapses integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (learner_id, skill)
);

CREATE TABLE review_items (
    id bigserial PRIMARY KEY,
    learner_id uuid NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
    skill text NOT NULL,
    prompt text NOT NULL,
    expected text NOT NULL,
    wrong_answer text NOT NULL,
    memory_id bigint REFERENCES memories (id) ON DELETE SET NULL,
    card jsonb NOT NULL,
    due timestamptz NOT NULL,
    reviews integer NOT NULL DEFAULT 0,
    last_delivered_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (learner_id, skill, prompt)
);
CREATE INDEX review_items_learner_due ON review_items (learner_id, due);

CREATE TABLE memory_summaries (
    learner_id uuid PRIMARY KEY REFERENCES learners (id) ON DELETE CASCADE,
    summary text NOT NULL,
    memories_covered integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);
