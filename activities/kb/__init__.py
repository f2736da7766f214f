"""Knowledge bases: extraction, chunking, embedding, storage and search of documents."""
