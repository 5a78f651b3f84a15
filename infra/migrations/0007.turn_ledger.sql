-- The turn ledger (espaluz.tutor.ledger): what a turn will send is written down before anything leaves,
-- and each message is recorded on its own, so a redelivery sends exactly the messages that have not gone
-- out and completes a turn whose messages all went out, never sending one twice.
-- depends: 0001.initial
-- 'released': a turn whose planned messages are kept (some may have gone out) and that the next delivery
-- takes over at once; a turn released before its plan was written is deleted instead, as before.
ALTER TABLE turns DROP CONSTRAINT turns_status_check;
ALTER TABLE turns ADD CONSTRAINT turns_status_check
    CHECK (status IN ('claimed', 'sending', 'released', 'answered'));
-- What the turn decided, kept to complete it on a redelivery without asking the tutor again: the route,
-- the conversation state to save once sent, the drill attempts, the learner's text, whether to erase.
ALTER TABLE turns ADD COLUMN plan jsonb;
-- Another message of the learner answered by this turn (a burst answered at once): its wamid points here.
ALTER TABLE turns ADD COLUMN answered_by text REFERENCES turns (wamid) ON DELETE CASCADE;
CREATE INDEX turns_answered_by ON turns (answered_by) WHERE answered_by IS NOT NULL;

CREATE TABLE turn_parts (
    wamid text NOT NULL REFERENCES turns (wamid) ON DELETE CASCADE,
    part smallint NOT NULL CHECK (part >= 0),
    -- The Graph API body without recipient, as planned: a redelivery sends this, not a new answer.
    body jsonb NOT NULL,
    -- pending: not sent (waiting for its slot or its retry is waiting too); sending: the Graph call is
    -- in flight, so it may have gone out and is never sent again; sent: Meta accepted it (reply_wamid);
    -- held: outside the 24-hour window, kept for the learner's next message instead.
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'held')),
    reply_wamid text,
    -- When the Graph call started: a part still 'sending' well after that (more than the tutor
    -- function's timeout) was in flight when its attempt died, and the learner may not have it.
    sending_at timestamptz,
    sent_at timestamptz,
    PRIMARY KEY (wamid, part)
);

-- The learner key (an HMAC of the WhatsApp identity, the FIFO message group of the learner's messages),
-- as the webhook computed it for the learner's last message: billing groups its notices with it without
-- holding the Meta app secret. A pseudonym, already in SQS group ids and logs; erased with the row.
ALTER TABLE learners ADD COLUMN learner_key text;
