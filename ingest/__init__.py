"""Ingestion: documents on disk -> cleaned, structured chunks -> embeddings in Chroma."""
