"""Knowledge bases as a starter sees them: their records (knowledge bases, uploaded
documents), the ingestion workflow's input, and starting it by name. The ingestion itself
(extraction, chunking, embedding) is the worker's: activities/kb/."""
