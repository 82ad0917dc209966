"""Companies: the employers a partner recruits for."""
