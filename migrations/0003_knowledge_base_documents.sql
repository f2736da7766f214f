-- How a knowledge base chunks and embeds: fixed at creation so search embeds queries the
-- way its chunks were embedded.
ALTER TABLE knowledge_bases
    ADD COLUMN embedding_model text NOT NULL DEFAULT 'hash-384',
    ADD COLUMN chunk_size      integer NOT NULL DEFAULT 800 CHECK (chunk_size > 0),
    ADD COLUMN chunk_overlap   integer NOT NULL DEFAULT 100 CHECK (chunk_overlap >= 0);

-- One uploaded file. `content` is the upload itself (NULL when refused for its size), so any
-- worker can read it; `text` is what extraction produced.
CREATE TABLE kb_documents (
    id                text PRIMARY KEY,
    knowledge_base_id text NOT NULL REFERENCES knowledge_bases (id) ON DELETE CASCADE,
    file_name         text NOT NULL,
    file_size         bigint NOT NULL CHECK (file_size >= 0),
    content           bytea,
    text              text,
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
    error             jsonb,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX kb_documents_kb ON kb_documents (knowledge_base_id, created_at DESC);

-- Chunks and their vectors. A plain float8[] (unit length, so cosine similarity is a dot
-- product) works on every Postgres; the embedding is NULL until the embedding step.
CREATE TABLE kb_chunks (
    document_id       text NOT NULL REFERENCES kb_documents (id) ON DELETE CASCADE,
    chunk_index       integer NOT NULL CHECK (chunk_index >= 0),
    knowledge_base_id text NOT NULL REFERENCES knowledge_bases (id) ON DELETE CASCADE,
    content           text NOT NULL,
    embedding         float8[],
    PRIMARY KEY (document_id, chunk_index)
);
CREATE INDEX kb_chunks_kb ON kb_chunks (knowledge_base_id) WHERE embedding IS NOT NULL;
