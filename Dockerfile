# One image for every twin: docker build -t dtu . && docker run -p 7103:7103 dtu serve slack --host 0.0.0.0
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY dtu ./dtu
COPY twins ./twins
COPY harness ./harness
COPY fault_profiles ./fault_profiles
RUN pip install --no-cache-dir .
ENTRYPOINT ["dtu"]
CMD ["up", "--host", "0.0.0.0"]
