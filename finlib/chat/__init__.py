"""Chat: questions to answers over aliased facts, through the one guarded send function, with offline answers."""
