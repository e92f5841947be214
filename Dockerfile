FROM node:20-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend ./frontend
RUN npm run build

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml ./
COPY reoffending ./reoffending
COPY cases ./cases
COPY pathways ./pathways
COPY panels ./panels
COPY dashboard ./dashboard
RUN pip install --no-cache-dir .
COPY . .
COPY --from=assets /app/static/vendor ./static/vendor
COPY --from=assets /app/node_modules/govuk-frontend/dist/govuk/assets ./node_modules/govuk-frontend/dist/govuk/assets
COPY --from=assets /app/node_modules/@ministryofjustice/frontend/moj/assets ./node_modules/@ministryofjustice/frontend/moj/assets
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput --verbosity 0
RUN useradd --system --uid 1000 app
USER app
EXPOSE 8000
CMD ["gunicorn", "reoffending.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
