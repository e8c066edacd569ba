# One image for web, workers and beat; the command differs per service (docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends curl libjpeg62-turbo && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Every transitive dependency pinned and hashed (make lock): the image installs exactly what was tested.
COPY requirements.lock .
RUN pip install --require-hashes -r requirements.lock
COPY . .
RUN DJANGO_DEBUG=true python manage.py collectstatic --noinput
RUN useradd --create-home atelier && mkdir -p /app/var && chown -R atelier /app/var
USER atelier
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60"]
