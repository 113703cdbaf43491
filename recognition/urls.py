"""Routes of the recognition app."""
urlpatterns: list = []
