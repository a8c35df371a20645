from django.utils import translation
from django.utils.cache import add_never_cache_headers


class UserLanguageMiddleware:
    """A logged-in user's chosen language wins over the browser's; anonymous pages follow the cookie."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


class NoStoreWhenLoggedInMiddleware:
    """``Cache-Control: no-store`` (and no-cache, private) on every answer to someone logged in: a shared
    computer's back button or disk cache, or a proxy, must not keep a customer's page or an API token. Anonymous
    pages (login, public survey pages) keep their own headers; static files never reach this middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response
