"""Token authentication that does not ask the database on every request.

DRF's ``TokenAuthentication`` reads the token and its user on every request: a round trip that
returns the same row thousands of times a minute. Here a token that authenticated is kept in the
default cache for ``OMS_AUTH_CACHE_SECONDS`` (0 turns the cache off) under a digest of its key, so
the key itself is never stored in the cache.

What can revoke access drops the entry at once: deleting a token (also when its user is deleted,
by cascade) and saving a user (deactivating them, taking staff rights away). With a shared cache
(Redis, ``CACHE_URL``, as in production) that takes effect in every process at once; with the
per-process memory cache (no ``CACHE_URL``) other processes notice when their entry expires, at
most ``OMS_AUTH_CACHE_SECONDS`` later, as does a change that bypasses ``save()`` (a queryset's
``update()``). Unknown keys are never cached: each costs the lookup it
costs today, and nobody can fill the cache with them.

Failed authentications are counted per address (``shared/throttling.py``): past
``OMS_THROTTLE_AUTH_FAILURES``, a request from that address presenting a token the cache does not
vouch for gets 429 without a lookup; a token that authenticated lately still works.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from shared.throttling import AuthenticationFailureThrottle


def cache_key(token_key: str) -> str:
    return "auth:token:" + hashlib.sha256(token_key.encode()).hexdigest()


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None  # no token presented: nothing to count
        if len(header) == 2:
            trusted = self._trusted(header[1])
            if trusted is not None:
                return trusted  # known good: never refused for another caller's failures
        throttle = AuthenticationFailureThrottle()
        throttle.refuse_if_exceeded(request)
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            throttle.record_failure()
            raise

    @staticmethod
    def _trusted(raw_key: bytes) -> tuple[Any, Any] | None:
        """The user and token of a key that authenticated lately (from the cache), or None."""
        if settings.OMS_AUTH_CACHE_SECONDS <= 0:
            return None
        try:
            key = raw_key.decode()
        except UnicodeError:
            return None
        token = cache.get(cache_key(key))
        if isinstance(token, Token) and token.user.is_active:
            return token.user, token
        return None

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        seconds = settings.OMS_AUTH_CACHE_SECONDS
        if seconds <= 0:
            return super().authenticate_credentials(key)
        entry = cache_key(key)
        token = cache.get(entry)
        if isinstance(token, Token) and token.user.is_active:
            return token.user, token
        user, token = super().authenticate_credentials(key)  # unknown or inactive: raises
        cache.set(entry, token, timeout=seconds)
        return user, token


def forget_token(sender: Any, instance: Token, **kwargs: Any) -> None:
    cache.delete(cache_key(instance.key))


def forget_tokens_of_user(sender: Any, instance: Any, **kwargs: Any) -> None:
    keys = Token.objects.filter(user_id=instance.pk).values_list("key", flat=True)
    cache.delete_many([cache_key(key) for key in keys])


def connect_invalidation() -> None:
    post_delete.connect(forget_token, sender=Token, dispatch_uid="auth-cache-forget-token")
    post_save.connect(
        forget_tokens_of_user, sender=get_user_model(), dispatch_uid="auth-cache-forget-user"
    )
