"""Exceptions that the shell (core's middleware) turns into answers, raised by any app."""


class LoginRequired(Exception):
    """The request is anonymous (or the account inactive): send the user to the login page."""
