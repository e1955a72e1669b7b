"""Helpers shared by test files (imported as ``helpers.*``; pytest puts tests/ on the path)."""
