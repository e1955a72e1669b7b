# The finlib app (dashboard at /, HTTP API beside it) for compose.yaml: python -m finlib serve in a slim image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FINLIB_HOME=/data

# DejaVu Sans lets the PDF report print every name and currency sign (without it, characters outside Latin-1
# become "?"; finlib/documents.py looks for it where Debian installs it).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
# The data home holds this replica's disk cache only; projects, aliases and the shared cache live in
# PostgreSQL and the bucket.
RUN useradd --create-home --uid 10001 finlib && mkdir -p /data && chown finlib /data
USER finlib

EXPOSE 8501
# 0.0.0.0 inside the container: compose publishes the ports on 127.0.0.1 of the host only.
CMD ["python", "-m", "finlib", "serve", "--host", "0.0.0.0", "--port", "8501"]
