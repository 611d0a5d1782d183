package dev.portico.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the {@code upstreams:} section and a route's {@code upstream:} value for {@link YamlConfigLoader}, whose
 * problem list it reports to.
 */
final class UpstreamsParser {
    private static final List<String> UPSTREAM_KEYS = List.of("servers", "balance", "hash_on", "health_check",
            "passive", "retry", "max_connections", "max_pending", "slow_start", "tls", "send_proxy_protocol",
            "protocol", "http2");
    private static final List<String> SERVER_KEYS = List.of("url", "weight");
    private static final List<String> HEALTH_KEYS = List.of("path", "interval", "timeout", "healthy_threshold",
            "unhealthy_threshold", "expect_status", "grpc", "service");
    private static final List<String> PASSIVE_KEYS = List.of("consecutive_failures", "eject_for",
            "max_ejected_percent", "on_5xx");
    private static final List<String> RETRY_KEYS = List.of("attempts", "retry_on", "idempotent_only",
            "budget_percent", "per_try_timeout", "backoff", "buffer");

    /** What an upstream name may be; anything else in a route's {@code upstream} is read as a URL. */
    private static final String NAME = "[A-Za-z0-9_.-]+";

    private final YamlConfigLoader y;
    private final Map<String, UpstreamConfig> named = new LinkedHashMap<>();
    /** Names whose definition had problems: routes naming them are not reported again. */
    private final List<String> broken = new ArrayList<>();

    private final TlsConfigReader tlsReader;

    UpstreamsParser(YamlConfigLoader loader, TlsConfigReader tlsReader) {
        this.y = loader;
        this.tlsReader = tlsReader;
    }

    void parse(Object node) {
        if (node == null) {
            return;
        }
        if (!(node instanceof Map<?, ?> map)) {
            y.problem("upstreams: expected a mapping of name to upstream, got " + YamlConfigLoader.describe(node));
            return;
        }
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String name = String.valueOf(e.getKey());
            String path = "upstreams." + name;
            if (!name.matches(NAME)) {
                y.problem(path + ": a name may have letters, digits, '_', '.' and '-' only");
                broken.add(name);
                continue;
            }
            UpstreamConfig u = upstream(name, e.getValue(), path);
            if (u == null) {
                broken.add(name);
            } else {
                named.put(name, u);
            }
        }
    }

    /** A route's {@code upstream}: a name from {@code upstreams:}, a URL, or a list of URLs. */
    UpstreamConfig routeUpstream(Object node, String path) {
        if (node instanceof String s && s.matches(NAME)) {
            UpstreamConfig u = named.get(s);
            if (u == null && !broken.contains(s)) {
                y.problem(path + ": no upstream named \"" + s + "\" (known: "
                        + (named.isEmpty() ? "none" : String.join(", ", named.keySet())) + "; or give a URL)");
            }
            return u;
        }
        if (node instanceof List<?> list) {
            if (list.isEmpty()) {
                return y.problem(path + ": expected at least one URL");
            }
            List<UpstreamUrl> urls = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                urls.add(y.text(list.get(i), path + "[" + i + "]", "an upstream URL", UpstreamUrl::parse));
            }
            return urls.contains(null) ? null : y.convert(path, () -> UpstreamConfig.of(urls));
        }
        UpstreamUrl url = y.text(node, path, "an upstream name, URL or list of URLs", UpstreamUrl::parse);
        return url == null ? null : UpstreamConfig.of(url);
    }

    private UpstreamConfig upstream(String name, Object node, String path) {
        Map<String, Object> m = y.mapping(node, path, UPSTREAM_KEYS);
        if (m == null) {
            return null;
        }
        int before = y.problemCount();
        List<ServerConfig> servers = m.get("servers") == null
                ? y.problem(path + ".servers: is required (a list of servers)") : servers(m.get("servers"), path);
        UpstreamConfig.Balance balance = m.containsKey("balance") ? y.text(m.get("balance"), path + ".balance",
                "round_robin, least_request, random or hash", UpstreamConfig.Balance::parse)
                : UpstreamConfig.Balance.ROUND_ROBIN;
        String hashOn = m.containsKey("hash_on")
                ? y.text(m.get("hash_on"), path + ".hash_on", "header:NAME, cookie:NAME, client_ip or path", s -> s)
                : null;
        HealthCheckConfig health = m.containsKey("health_check") ? health(m.get("health_check"), path) : null;
        PassiveConfig passive = m.containsKey("passive") ? passive(m.get("passive"), path) : PassiveConfig.DEFAULTS;
        RetryConfig retry = m.containsKey("retry") ? retry(m.get("retry"), path) : RetryConfig.DEFAULTS;
        Long maxConnections = m.containsKey("max_connections")
                ? y.count(m.get("max_connections"), path + ".max_connections") : Long.valueOf(0);
        Long maxPending = m.containsKey("max_pending")
                ? y.count(m.get("max_pending"), path + ".max_pending") : Long.valueOf(0);
        Duration slowStart = m.containsKey("slow_start")
                ? y.anyDuration(m.get("slow_start"), path + ".slow_start") : Duration.ZERO;
        UpstreamTlsConfig tls = m.containsKey("tls") ? tlsReader.upstreamTls(m.get("tls"), path + ".tls") : null;
        UpstreamConfig.SendProxyProtocol sendProxy = m.containsKey("send_proxy_protocol")
                ? sendProxyProtocol(m.get("send_proxy_protocol"), path + ".send_proxy_protocol")
                : UpstreamConfig.SendProxyProtocol.OFF;
        UpstreamHttp2Parser h2 = new UpstreamHttp2Parser(y);
        UpstreamConfig.Protocol protocol = h2.protocol(m, path);
        UpstreamHttp2Config http2 = h2.http2(m, path);
        if (y.problemCount() != before) {
            return null;
        }
        return y.build(path, UPSTREAM_KEYS, () -> new UpstreamConfig(name, servers, balance, hashOn, health,
                passive, retry, Math.toIntExact(Math.min(maxConnections, Integer.MAX_VALUE)),
                Math.toIntExact(Math.min(maxPending, Integer.MAX_VALUE)), slowStart, tls, sendProxy, protocol,
                http2));
    }

    /** {@code off} (which YAML may read as {@code false}), {@code v1} or {@code v2}. */
    private UpstreamConfig.SendProxyProtocol sendProxyProtocol(Object node, String path) {
        if (Boolean.FALSE.equals(node) || "off".equals(node)) {
            return UpstreamConfig.SendProxyProtocol.OFF;
        }
        return y.text(node, path, "v1 or v2", UpstreamConfig.SendProxyProtocol::parse);
    }

    private List<ServerConfig> servers(Object node, String path) {
        if (!(node instanceof List<?> list) || list.isEmpty()) {
            return y.problem(path + ".servers: expected a list of servers, got " + YamlConfigLoader.describe(node));
        }
        List<ServerConfig> result = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String p = path + ".servers[" + i + "]";
            Object item = list.get(i);
            if (item instanceof String) {
                UpstreamUrl url = y.text(item, p, "a URL", UpstreamUrl::parse);
                result.add(url == null ? null : new ServerConfig(url, 1));
                continue;
            }
            Map<String, Object> m = y.mapping(item, p, SERVER_KEYS);
            if (m == null) {
                result.add(null);
                continue;
            }
            UpstreamUrl url = m.get("url") == null ? y.problem(p + ".url: is required")
                    : y.text(m.get("url"), p + ".url", "a URL", UpstreamUrl::parse);
            Long weight = m.containsKey("weight") ? y.count(m.get("weight"), p + ".weight") : Long.valueOf(1);
            result.add(url == null || weight == null ? null
                    : y.build(p, SERVER_KEYS, () -> new ServerConfig(url, (int) Math.max(Integer.MIN_VALUE,
                            Math.min(Integer.MAX_VALUE, weight)))));
        }
        return result.contains(null) ? null : result;
    }

    private HealthCheckConfig health(Object node, String upstreamPath) {
        String path = upstreamPath + ".health_check";
        Map<String, Object> m = y.mapping(node, path, HEALTH_KEYS);
        if (m == null) {
            return null;
        }
        int before = y.problemCount();
        Boolean grpc = m.containsKey("grpc") ? y.bool(m.get("grpc"), path + ".grpc") : Boolean.FALSE;
        if (Boolean.TRUE.equals(grpc)) {
            for (String key : List.of("path", "expect_status")) {
                if (m.containsKey(key)) {
                    y.problem(path + "." + key + ": not with grpc: true (the check calls "
                            + "grpc.health.v1.Health/Check and passes on SERVING)");
                }
            }
        } else if (m.containsKey("service")) {
            y.problem(path + ".service: needs grpc: true");
        }
        String service = m.get("service") == null ? ""
                : y.text(m.get("service"), path + ".service", "a gRPC service name", s -> s);
        String target = Boolean.TRUE.equals(grpc) ? "/" : m.get("path") == null
                ? y.problem(path + ".path: is required (e.g. /healthz)")
                : y.text(m.get("path"), path + ".path", "a path such as /healthz", s -> s);
        Duration interval = m.containsKey("interval") ? y.positiveDuration(m.get("interval"), path + ".interval")
                : HealthCheckConfig.DEFAULT_INTERVAL;
        Duration timeout = m.containsKey("timeout") ? y.positiveDuration(m.get("timeout"), path + ".timeout")
                : HealthCheckConfig.DEFAULT_TIMEOUT;
        Long healthy = m.containsKey("healthy_threshold")
                ? y.count(m.get("healthy_threshold"), path + ".healthy_threshold") : Long.valueOf(2);
        Long unhealthy = m.containsKey("unhealthy_threshold")
                ? y.count(m.get("unhealthy_threshold"), path + ".unhealthy_threshold") : Long.valueOf(3);
        int[] expect = m.containsKey("expect_status") ? statusRange(m.get("expect_status"), path + ".expect_status")
                : new int[] {200, 399};
        if (y.problemCount() != before) {
            return null;
        }
        return y.build(path, HEALTH_KEYS, () -> new HealthCheckConfig(target, interval, timeout,
                clamp(healthy), clamp(unhealthy), expect[0], expect[1], grpc, service));
    }

    private int[] statusRange(Object node, String path) {
        String text = String.valueOf(node).trim();
        if (text.matches("[1-5]\\d\\d")) {
            int s = Integer.parseInt(text);
            return new int[] {s, s};
        }
        if (text.matches("[1-5]\\d\\d\\s*-\\s*[1-5]\\d\\d")) {
            String[] parts = text.split("-");
            int lo = Integer.parseInt(parts[0].trim());
            int hi = Integer.parseInt(parts[1].trim());
            if (lo <= hi) {
                return new int[] {lo, hi};
            }
        }
        return y.problem(path + ": expected a status or a range such as 200-399, got "
                + YamlConfigLoader.describe(node));
    }

    private PassiveConfig passive(Object node, String upstreamPath) {
        String path = upstreamPath + ".passive";
        Map<String, Object> m = y.mapping(node, path, PASSIVE_KEYS);
        if (m == null) {
            return null;
        }
        PassiveConfig d = PassiveConfig.DEFAULTS;
        int before = y.problemCount();
        Long failures = m.containsKey("consecutive_failures")
                ? y.count(m.get("consecutive_failures"), path + ".consecutive_failures")
                : Long.valueOf(d.consecutiveFailures());
        Duration ejectFor = m.containsKey("eject_for") ? y.positiveDuration(m.get("eject_for"), path + ".eject_for")
                : d.ejectFor();
        Long percent = m.containsKey("max_ejected_percent")
                ? y.count(m.get("max_ejected_percent"), path + ".max_ejected_percent")
                : Long.valueOf(d.maxEjectedPercent());
        Boolean on5xx = m.containsKey("on_5xx") ? y.bool(m.get("on_5xx"), path + ".on_5xx") : Boolean.FALSE;
        if (y.problemCount() != before) {
            return null;
        }
        return y.build(path, PASSIVE_KEYS, () -> new PassiveConfig(clamp(failures), ejectFor, clamp(percent),
                on5xx));
    }

    private RetryConfig retry(Object node, String upstreamPath) {
        String path = upstreamPath + ".retry";
        Map<String, Object> m = y.mapping(node, path, RETRY_KEYS);
        if (m == null) {
            return null;
        }
        RetryConfig d = RetryConfig.DEFAULTS;
        int before = y.problemCount();
        Long attempts = m.containsKey("attempts") ? y.count(m.get("attempts"), path + ".attempts")
                : Long.valueOf(d.attempts());
        List<String> retryOn = m.containsKey("retry_on") ? retryOn(m.get("retry_on"), path + ".retry_on")
                : d.retryOn();
        Boolean idempotentOnly = m.containsKey("idempotent_only")
                ? y.bool(m.get("idempotent_only"), path + ".idempotent_only") : Boolean.TRUE;
        Long budget = m.containsKey("budget_percent") ? y.count(m.get("budget_percent"), path + ".budget_percent")
                : Long.valueOf(d.budgetPercent());
        Duration perTry = m.containsKey("per_try_timeout")
                ? y.positiveDuration(m.get("per_try_timeout"), path + ".per_try_timeout") : null;
        Duration backoff = m.containsKey("backoff") ? y.anyDuration(m.get("backoff"), path + ".backoff")
                : d.backoff();
        Long buffer = m.containsKey("buffer") ? y.size(m.get("buffer"), path + ".buffer") : Long.valueOf(d.buffer());
        if (y.problemCount() != before) {
            return null;
        }
        return y.build(path, RETRY_KEYS, () -> new RetryConfig(clamp(attempts), retryOn, idempotentOnly,
                clamp(budget), perTry, backoff, buffer));
    }

    private List<String> retryOn(Object node, String path) {
        if (!(node instanceof List<?> list)) {
            return y.problem(path + ": expected a list such as [connect_failure, reset, 503], got "
                    + YamlConfigLoader.describe(node));
        }
        List<String> out = new ArrayList<>();
        for (Object o : list) {
            out.add(String.valueOf(o));
        }
        return out;
    }

    private static int clamp(long v) {
        return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v));
    }
}
