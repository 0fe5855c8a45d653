from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter, SimpleRouter

from hayon.health import health
from hayon.tokens.api import ApiTokenViewSet, ObtainTokenView
from media import urls as media_urls
from platforms import views as account_pages
from platforms.api import AccountViewSet, connect_urls
from posts.api import DeliveryViewSet, PostViewSet

router = DefaultRouter()
router.register("accounts", AccountViewSet, basename="account")
router.register("posts", PostViewSet, basename="post")
router.register("tokens", ApiTokenViewSet, basename="api-token-named")

deliveries = SimpleRouter()
deliveries.register("deliveries", DeliveryViewSet, basename="delivery")

urlpatterns = [
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path("accounts/connect/", include("platforms.urls")),
    path("accounts/", include((account_pages.urlpatterns, "accounts"))),
    path(
        "signin/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="signin",
    ),
    path("signout/", auth_views.LogoutView.as_view(), name="signout"),
    path("api/auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    *connect_urls(),
    path("api/posts/<int:post_pk>/", include(deliveries.urls)),
    # Before the router, whose posts/<pk>/ would otherwise take "media".
    path("api/posts/media/", include(media_urls.api_urls)),
    path("media/", include(media_urls.file_urls)),
    path("api/", include(router.urls)),
    path("", include("posts.urls")),
]

# Under /api/, an unknown URL or a crash still answers in the API's error shape.
handler404 = "hayon.api_errors.not_found"
handler500 = "hayon.api_errors.server_error"
