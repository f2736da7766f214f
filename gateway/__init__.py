"""The ASGI app: Socket.IO server, auth, subscriptions, fan-out, user-input relay, HTTP API."""
