-- Where the server has pgvector (the embedded server does), chunks also get a `vector` copy of
-- their embedding, generated from the float8[] that stays the source of truth, and search
-- ranks by pgvector's inner product instead of unnesting arrays in SQL. Elsewhere, or when
-- this role may not create the extension, chunks keep the plain array and search still works.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS vector;
            ALTER TABLE kb_chunks
                ADD COLUMN embedding_vector vector GENERATED ALWAYS AS (embedding::vector) STORED;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'pgvector is available but % may not create it: plain arrays only',
                current_user;
        END;
    END IF;
END
$$;
