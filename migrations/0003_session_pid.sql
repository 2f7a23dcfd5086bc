-- The process id of each opsdeck run, so an unfinished audit row can be told
-- apart: its opsdeck still running on this host ("running elsewhere") or
-- gone without finishing it ("outcome unknown").
ALTER TABLE sessions ADD COLUMN pid INTEGER;
