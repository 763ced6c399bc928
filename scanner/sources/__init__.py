"""Input sources: each turns one kind of input into Chunks of text."""
