"""Search spaces: op sets, architecture encodings, enumeration and indexing."""
