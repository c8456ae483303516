"""The project's generators: what they write is checked by a test to be current."""
