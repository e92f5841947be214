FROM node:20-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend ./frontend
RUN npm run build

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONPATH=/app
WORKDIR /app
# The runtime half of the lock only: every package pinned, every file checked against its hash.
COPY requirements/app.txt ./requirements/app.txt
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements/app.txt
COPY . .
COPY --from=assets /app/static/vendor ./static/vendor
COPY --from=assets /app/node_modules/govuk-frontend/dist/govuk/assets ./node_modules/govuk-frontend/dist/govuk/assets
COPY --from=assets /app/node_modules/@ministryofjustice/frontend/moj/assets ./node_modules/@ministryofjustice/frontend/moj/assets
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput --verbosity 0
RUN groupadd --system --gid 10001 app && useradd --system --uid 10001 --gid 10001 --no-create-home app
USER 10001
EXPOSE 8000
# Workers, timeouts and request metrics across workers: gunicorn.conf.py.
CMD ["gunicorn", "reoffending.wsgi:application"]
