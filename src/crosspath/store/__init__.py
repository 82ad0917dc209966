"""Storage: the engine, the tables, the transaction scope and the migrations."""
