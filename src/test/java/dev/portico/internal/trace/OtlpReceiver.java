package dev.portico.internal.trace;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * An OTLP/HTTP collector for tests, on 127.0.0.1 and port 0: takes {@code POST /v1/traces} with protobuf bodies,
 * decodes them with the protocol's generated classes, and keeps the spans and their resources' attributes.
 */
final class OtlpReceiver implements AutoCloseable {
    private final HttpServer server;
    private final List<Span> spans = new CopyOnWriteArrayList<>();
    private final List<KeyValue> resource = new CopyOnWriteArrayList<>();
    private final List<String> authorizations = new CopyOnWriteArrayList<>();

    OtlpReceiver() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newSingleThreadExecutor());
        server.createContext("/v1/traces", exchange -> {
            try (InputStream in = exchange.getRequestBody()) {
                authorizations.add(String.valueOf(exchange.getRequestHeaders().getFirst("x-api-key")));
                ExportTraceServiceRequest req = ExportTraceServiceRequest.parseFrom(in.readAllBytes());
                for (ResourceSpans rs : req.getResourceSpansList()) {
                    resource.addAll(rs.getResource().getAttributesList());
                    for (ScopeSpans ss : rs.getScopeSpansList()) {
                        spans.addAll(ss.getSpansList());
                    }
                }
                byte[] body = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
                exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
                exchange.sendResponseHeaders(200, body.length == 0 ? -1 : body.length);
                exchange.getResponseBody().write(body);
            } finally {
                exchange.close();
            }
        });
        server.start();
    }

    /** @return the OTLP/HTTP endpoint to configure */
    String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** @return the spans received so far */
    List<Span> spans() {
        return new ArrayList<>(spans);
    }

    /** @return the values of the API key field sent with each export */
    List<String> apiKeys() {
        return new ArrayList<>(authorizations);
    }

    /** @return the resource attribute {@code key}, or {@code null} */
    String resource(String key) {
        return resource.stream().filter(kv -> kv.getKey().equals(key)).findFirst()
                .map(kv -> kv.getValue().getStringValue()).orElse(null);
    }

    static String hex(com.google.protobuf.ByteString id) {
        return HexFormat.of().formatHex(id.toByteArray());
    }

    /** @return the span's attribute {@code key} as text (numbers in decimal), or {@code null} */
    static String attr(Span s, String key) {
        for (KeyValue kv : s.getAttributesList()) {
            if (kv.getKey().equals(key)) {
                AnyValue v = kv.getValue();
                return v.hasIntValue() ? Long.toString(v.getIntValue()) : v.hasBoolValue()
                        ? Boolean.toString(v.getBoolValue()) : v.getStringValue();
            }
        }
        return null;
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
