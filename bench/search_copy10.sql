-- Make a 1,000,000-document search index from a built 100,000-post one (bench/RESULTS.md):
-- ten copies with distinct ids (sequence part + n << 17) and record ids, same texts and dates.
-- sqlite3 ARCHIVE/hujjat.db < bench/search_copy10.sql   (on an index already at search_0002)
PRAGMA foreign_keys=OFF;
PRAGMA secure_delete=OFF;
BEGIN;
WITH RECURSIVE j(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM j WHERE n < 9)
INSERT INTO search_documents (id, kind, record_id, language, category, source, place, state, date, month)
SELECT d.id + (j.n << 17), d.kind, d.record_id || '-' || j.n, d.language, d.category, d.source, d.place, d.state, d.date, d.month FROM search_documents d, j WHERE d.id < (1<<62);
WITH RECURSIVE j(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM j WHERE n < 9)
INSERT INTO search_texts (id, title, body, record, indexed_at)
SELECT t.id + (j.n << 17), t.title, t.body, t.record, t.indexed_at FROM search_texts t, j;
WITH RECURSIVE j(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM j WHERE n < 9)
INSERT INTO search_fts (rowid, terms) SELECT f.rowid + (j.n << 17), f.terms FROM search_fts f, j ORDER BY 1;
INSERT INTO search_fts (search_fts) VALUES ('optimize');
UPDATE search_sequence SET next = 2000000;
COMMIT;
