"""Django test clients for the page tests."""

from django.test import Client


def signed_in(user, **kwargs) -> Client:
    """A client signed in as `user` (`kwargs` as for `Client`, e.g. enforce_csrf_checks)."""
    client = Client(**kwargs)
    client.force_login(user)
    return client
