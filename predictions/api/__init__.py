"""REST API of predictions: views, serializers, the read service and the ASGI fast path."""
