from django.http import Http404, JsonResponse

from accesmt.common.errors import LoginRequired


class RejectNulMiddleware:
    """A NUL byte in the path (`/demandes/%00/`) names nothing: 404, before any view or URL
    converter hands it to a query (PostgreSQL refuses NUL in text and would answer 500)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info:
            if request.path_info.startswith("/api/"):  # the API answers JSON, field named
                message = "Adresse inconnue : le chemin contient un caractère nul."
                return JsonResponse({"errors": [{"field": "path", "message": message}]}, status=404)
            raise Http404("NUL dans le chemin")
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Headers that Django does not set itself. No page is ever cached by a shared cache."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        if not request.path.startswith("/static/"):
            response.setdefault("Cache-Control", "no-store")
        return response


class LoginRequiredMiddleware:
    """Turns `accesmt.common.errors.LoginRequired` into a redirect to the login page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.contrib.auth.views import redirect_to_login

        if isinstance(exception, LoginRequired):
            return redirect_to_login(request.get_full_path())
        return None
