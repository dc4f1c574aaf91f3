"""What every part of neuroshell shares and that belongs to none of them: the base of errors a user can fix.

Engines, sessions and the shell may all import it; it imports nothing of neuroshell's."""
