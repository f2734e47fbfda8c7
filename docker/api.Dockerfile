FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY rcu ./rcu
COPY settings ./settings
COPY provisioning ./provisioning
COPY analyzers ./analyzers
COPY indexers ./indexers
COPY search ./search
COPY api ./api
RUN pip install --no-cache-dir .
EXPOSE 8000
CMD ["rcu", "serve", "--host", "0.0.0.0", "--port", "8000"]
