# peer2mqtt (and homepeer) from Debian 12 packages only.
# Build stage: exactly BUILD_PACKAGES + LIBRARY_PACKAGES of scripts/setup.sh (a test checks it).
FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libssl-dev rapidjson-dev libpaho-mqttpp-dev libpaho-mqtt-dev libasio-dev \
      libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev \
 && rm -rf /var/lib/apt/lists/*
COPY . /src
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DHOMEP2P_TESTS=OFF -DHOMEP2P_BENCH=OFF \
 && cmake --build /build --target peer2mqtt homepeer

# Run stage: the shared libraries the binaries link against, nothing else.
FROM debian:12
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libssl3 libpaho-mqttpp3-1 libpaho-mqtt1.3 libyaml-cpp0.7 libspdlog1.10 libfmt9 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/bridge/peer2mqtt /build/plugin/homepeer /usr/local/bin/
COPY mappings /usr/share/peer2mqtt/mappings
# /config/configuration.yaml is only read (mount it read-only); /data holds the state file.
VOLUME /data
ENV PEER2MQTT_MAPPINGS=/usr/share/peer2mqtt/mappings PEER2MQTT_STATE_FILE=/data/peer2mqtt-state.json
ENTRYPOINT ["peer2mqtt", "--config", "/config/configuration.yaml"]
