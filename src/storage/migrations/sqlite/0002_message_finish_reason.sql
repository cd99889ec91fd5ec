-- Why an assistant reply ended ("stop", "length", "safety", "interrupted", ...); NULL for user messages.
ALTER TABLE messages ADD COLUMN finish_reason TEXT CHECK (length(CAST(finish_reason AS BLOB)) BETWEEN 1 AND 32);
