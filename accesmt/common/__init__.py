"""Shared plumbing, the ground floor that every app may import (and that imports no app)."""
