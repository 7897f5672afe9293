-- Dead letters say what they did to the rejected message: its original size (NULL for a tombstone), a
-- digest of the original bytes (keyed in the stream), whether the payload kept is only its start (the
-- letter must fit the broker), and what was redacted ('key', identifier fields, 'other_fields',
-- 'payload' when withheld). academy and student_id now come from the letter itself when the stream
-- knows the pupil (also from a raw id it pseudonymised), so `vigie erase` reaches every letter of a pupil.

ALTER TABLE ${database}.dead_letters ADD COLUMN IF NOT EXISTS payload_bytes Nullable(UInt64) AFTER payload_b64;
ALTER TABLE ${database}.dead_letters ADD COLUMN IF NOT EXISTS payload_digest String DEFAULT '' AFTER payload_bytes;
ALTER TABLE ${database}.dead_letters ADD COLUMN IF NOT EXISTS payload_truncated Bool DEFAULT false AFTER payload_digest;
ALTER TABLE ${database}.dead_letters ADD COLUMN IF NOT EXISTS redacted Array(String) AFTER payload_truncated;
