from django.db import models


class RateLimitWindow(models.Model):
    """Hits of one client in one fixed time window. Kept in the database so every web process agrees."""

    key = models.CharField(max_length=200, unique=True)
    window_start = models.DateTimeField(db_index=True)
    hits = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.key}: {self.hits}"
