# Multi-stage build: a static binary on a distroless base, run as distroless's
# nonroot user (65532) with a /data directory it owns.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/staffroom . \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/staffroom /staffroom
# A named volume mounted here starts as a copy of this directory, owner included.
COPY --from=build --chown=65532:65532 /out/data /data
ENV STAFFROOM_ADDR=:8080 STAFFROOM_DATA_DIR=/data
EXPOSE 8080
USER 65532:65532
ENTRYPOINT ["/staffroom"]
