# One image for web, worker, beat and Flower; compose.yaml chooses the command.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HAYON_DATA_DIR=/var/lib/hayon/data \
    HAYON_STATIC_ROOT=/app/staticfiles

RUN useradd --system --create-home --uid 1000 hayon \
    && mkdir -p /var/lib/hayon/data /var/lib/hayon/beat \
    && chown -R hayon:hayon /var/lib/hayon

WORKDIR /app
COPY . .
RUN pip install ".[ops]"

# Static files are collected at build time; settings only need a throwaway broker for it.
RUN CELERY_BROKER_URL=memory:// python manage.py collectstatic --noinput \
    && chown -R hayon:hayon /var/lib/hayon

USER hayon
EXPOSE 8000
CMD ["gunicorn", "hayon.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4", "--threads", "4"]
