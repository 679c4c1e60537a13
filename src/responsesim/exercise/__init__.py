"""The decision exercise (issue 27): a trainee plays the first officer; the debrief compares every
choice from the same saved moment, in lives. See docs/exercise.md."""
