-- Why an assistant reply ended ("stop", "length", "safety", "interrupted", ...); NULL for user messages.
ALTER TABLE messages ADD COLUMN finish_reason text CHECK (octet_length(finish_reason) BETWEEN 1 AND 32);
