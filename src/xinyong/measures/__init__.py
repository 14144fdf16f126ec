"""Joint rewards and punishments: the measure list, real-time checks and feedback on measures applied."""
