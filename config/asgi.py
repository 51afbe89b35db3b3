"""One ASGI application for HTTP and WebSocket (Channels).

HTTP: Bearer-token reads of ``GET /api/prediction/{symbol}`` go through a fast path before Django
(``predictions.api.fast``); everything else is Django. WebSocket: the JWT is checked by
``accounts.channels_auth`` before the consumer runs.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from accounts.channels_auth import BrowserOriginValidator, JwtAuthMiddleware  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402
from predictions.api.fast import PredictionFastPath  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": PredictionFastPath(django_asgi_app),
        "websocket": BrowserOriginValidator(JwtAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
