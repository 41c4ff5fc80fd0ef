# Quiver server image: docker build -t quiver:0.1.0 .
# Stage 1 builds target/quiver.jar with Maven; stage 2 runs it on a Java 21 runtime.
FROM maven:3.9-eclipse-temurin-21 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src src
RUN mvn -B -q -DskipTests package

FROM eclipse-temurin:21-jre
RUN groupadd --gid 1000 quiver && useradd --uid 1000 --gid 1000 --no-create-home quiver \
    && mkdir -p /quiver/storage /quiver/snapshots /quiver/conf && chown -R 1000:1000 /quiver
WORKDIR /quiver
COPY --from=build /src/target/quiver.jar /quiver/quiver.jar
COPY conf/config.yaml conf/jvm.options /quiver/conf/
USER 1000
# REST, gRPC, and in cluster mode Hazelcast, the Vert.x event bus and Raft (QDRANT__CLUSTER__BUS__PORT and
# QDRANT__CLUSTER__RAFT__PORT set them; the Kubernetes manifests use 6336 and 6337)
EXPOSE 6333 6334 6335 6336 6337
VOLUME ["/quiver/storage"]
# conf/jvm.options sets the heap and the GC; JAVA_OPTS comes after it and wins
ENV JAVA_OPTS=""
# exec: the JVM is PID 1 and gets SIGTERM (graceful shutdown); extra arguments go to the server
ENTRYPOINT ["sh", "-c", "exec java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED $(grep -v '^#' /quiver/conf/jvm.options) $JAVA_OPTS -jar /quiver/quiver.jar \"$@\"", "quiver"]
