ALTER TABLE learners DROP COLUMN marketing_pref_at;
ALTER TABLE learners DROP COLUMN marketing_opt_out;
ALTER TABLE learners DROP COLUMN opted_out_at;
