from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "hayon.tokens"
    label = "tokens"
    verbose_name = "API tokens"
