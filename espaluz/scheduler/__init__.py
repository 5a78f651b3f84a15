"""The tutor that writes first: what is due for each learner (reviews, reminders, offer follow-ups,
re-engagement) and the pass that puts it on the tutor's queue. The tutor composes and sends each message
(``espaluz.tutor.proactive``) through the same send policy, ledger and consent checks as a reply."""
