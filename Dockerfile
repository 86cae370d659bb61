# Multi-stage build: a static binary on a distroless base.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/staffroom .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/staffroom /staffroom
ENV STAFFROOM_ADDR=:8080 STAFFROOM_DATA_DIR=/data
EXPOSE 8080
USER nonroot
ENTRYPOINT ["/staffroom"]
