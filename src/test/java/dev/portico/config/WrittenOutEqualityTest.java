package dev.portico.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The configuration records whose {@code equals} and {@code hashCode} are written out (to spare start-up the
 * bootstrap of the generated ones) keep a record's meaning: every component counts, in declaration order. A
 * component added to one of them and forgotten in either method fails here.
 */
class WrittenOutEqualityTest {
    private static final String YAML = """
            listen:
              - 127.0.0.1:8080
              - {address: "127.0.0.1:8081", h2c: true}
            upstreams:
              api:
                servers:
                  - {url: http://10.0.0.5:9000/base, weight: 3}
                  - http://10.0.0.6:9000/base
                balance: hash
                hash_on: header:X-User-Id
                health_check: {path: /healthz, interval: 5s, timeout: 1s, healthy_threshold: 2,
                               unhealthy_threshold: 3, expect_status: 200-299}
                passive: {consecutive_failures: 4, eject_for: 20s, max_ejected_percent: 40, on_5xx: true}
                retry: {attempts: 2, retry_on: [connect_failure, reset, 503], idempotent_only: false,
                        budget_percent: 30, per_try_timeout: 3s, backoff: 50ms, buffer: 32KiB}
                max_connections: 10
                max_pending: 5
                slow_start: 10s
                protocol: h2c
                http2: {max_streams_per_connection: 50, connections_per_endpoint: 2, ping_interval: 10s}
              secure:
                servers: [https://10.0.0.7:8443]
              grpc:
                servers: [http://10.0.0.9:9000]
                protocol: h2c
                health_check: {grpc: true, service: orders.v1.Orders}
            routes:
              - {path: /api, upstream: api}
              - {path: /secure, upstream: secure}
              - {path: /plain, upstream: "http://10.0.0.8:9000"}
              - {path: /grpc, upstream: grpc}
            """;

    /** The records with written-out methods, and instances of each from the configuration above. */
    private static Map<Class<?>, List<Object>> samples() {
        ProxyConfig config = YamlConfigLoader.parse(YAML, "equality.yaml");
        Map<Class<?>, List<Object>> samples = new LinkedHashMap<>();
        // The loader reads the files a tls section names; the record itself takes any paths.
        add(samples, new UpstreamTlsConfig(Path.of("ca.pem"), "api.internal", Path.of("c.pem"), Path.of("k.pem"),
                false));
        for (ListenerConfig l : config.listen()) {
            add(samples, l.address());
        }
        for (RouteConfig r : config.routes()) {
            UpstreamConfig u = r.upstream();
            add(samples, u);
            add(samples, u.passive());
            add(samples, u.retry());
            add(samples, u.http2());
            add(samples, u.healthCheck());
            add(samples, u.tls());
            for (ServerConfig s : u.servers()) {
                add(samples, s);
                add(samples, s.url());
            }
        }
        return samples;
    }

    private static void add(Map<Class<?>, List<Object>> samples, Object o) {
        if (o != null) {
            List<Object> list = samples.computeIfAbsent(o.getClass(), k -> new ArrayList<>());
            if (!list.contains(o)) {
                list.add(o);
            }
        }
    }

    @Test
    void everyComponentCountsInEqualsAndHashCode() throws Exception {
        Map<Class<?>, List<Object>> samples = samples();
        assertThat(samples.keySet()).contains(UpstreamConfig.class, ServerConfig.class, UpstreamUrl.class,
                RetryConfig.class, PassiveConfig.class, UpstreamHttp2Config.class, HealthCheckConfig.class,
                UpstreamTlsConfig.class, ListenAddress.class);
        for (Map.Entry<Class<?>, List<Object>> e : samples.entrySet()) {
            Class<?> type = e.getKey();
            RecordComponent[] components = type.getRecordComponents();
            Constructor<?> canonical = type.getDeclaredConstructor(
                    Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new));
            Set<String> varied = new HashSet<>();
            for (Object sample : e.getValue()) {
                Object[] values = values(sample, components);
                assertThat(sample.hashCode()).as("%s.hashCode", type.getSimpleName()).isEqualTo(Objects.hash(values));
                Object copy = canonical.newInstance(values);
                assertThat(copy).isEqualTo(sample).hasSameHashCodeAs(sample);
                assertThat(sample).isNotEqualTo(null).isNotEqualTo(new Object());
                for (int i = 0; i < components.length; i++) {
                    for (Object other : candidates(components[i], values[i], samples)) {
                        Object[] changed = values.clone();
                        changed[i] = other;
                        Object variant;
                        try {
                            variant = canonical.newInstance(changed);
                        } catch (InvocationTargetException refused) {
                            continue; // a value the record's checks refuse: try the next one
                        }
                        if (Objects.equals(values(variant, components)[i], values[i])) {
                            continue; // normalised back to the same value
                        }
                        assertThat(variant).as("%s differing in %s", type.getSimpleName(), components[i].getName())
                                .isNotEqualTo(sample);
                        varied.add(components[i].getName());
                        break;
                    }
                }
            }
            assertThat(varied).as("components of %s varied", type.getSimpleName())
                    .containsExactlyInAnyOrder(Arrays.stream(components).map(RecordComponent::getName)
                            .toArray(String[]::new));
        }
    }

    private static Object[] values(Object record, RecordComponent[] components) throws Exception {
        Object[] values = new Object[components.length];
        for (int i = 0; i < components.length; i++) {
            values[i] = components[i].getAccessor().invoke(record);
        }
        return values;
    }

    /** Values to put in place of {@code current}, most likely to pass the record's checks first. */
    private static List<Object> candidates(RecordComponent c, Object current, Map<Class<?>, List<Object>> samples) {
        Class<?> t = c.getType();
        List<Object> out = new ArrayList<>();
        if (t == int.class) {
            int v = (Integer) current;
            out.addAll(List.of(v + 1, v - 1, 1, 2, 0));
        } else if (t == long.class) {
            long v = (Long) current;
            out.addAll(List.of(v + 1, v - 1, 1L));
        } else if (t == boolean.class) {
            out.add(!(Boolean) current);
        } else if (t == String.class) {
            out.addAll(Arrays.asList(current == null ? "x" : current + "x", "/x", "header:X-Other", null));
        } else if (t == Duration.class) {
            out.addAll(Arrays.asList(current == null ? Duration.ofSeconds(7) : ((Duration) current).plusSeconds(1),
                    Duration.ofSeconds(7), null));
        } else if (t == Path.class) {
            out.addAll(Arrays.asList(Path.of("other.pem"), null));
        } else if (t.isEnum()) {
            for (Object constant : t.getEnumConstants()) {
                if (constant != current) {
                    out.add(constant);
                }
            }
        } else if (t == List.class) {
            List<?> list = (List<?>) current;
            Class<?> element = (Class<?>) ((ParameterizedType) c.getGenericType()).getActualTypeArguments()[0];
            if (list.size() > 1) {
                out.add(List.copyOf(list.subList(0, list.size() - 1)));
            }
            if (element == String.class) {
                out.add(List.of("timeout"));
            }
            for (Object other : samples.getOrDefault(element, List.of())) {
                out.add(List.of(other));
            }
        } else {
            for (Object other : samples.getOrDefault(t, List.of())) {
                if (!other.equals(current)) {
                    out.add(other);
                }
            }
            out.add(null);
        }
        return out;
    }
}
