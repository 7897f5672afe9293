-- mastery_updates gains what the stream now carries in each MasteryUpdated: the estimate it replaces
-- (previous_p_after, previous_mastered; NULL for a pupil × skill's first update), and previous_known: the row
-- carries that chain (it has a previous estimate, or it is the first update, attempts = 1; set by the sink).
-- Rows stored before this migration, or sent by a stream that does not fill the fields, have previous_known =
-- false. Used by the running sums of group mastery (0024).

ALTER TABLE ${database}.mastery_updates
    ADD COLUMN IF NOT EXISTS previous_p_after Nullable(Float32),
    ADD COLUMN IF NOT EXISTS previous_mastered Nullable(Bool),
    ADD COLUMN IF NOT EXISTS previous_known Bool DEFAULT false;
