package dev.portico.config;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.schema.CoreSchema;

/**
 * Reads a YAML document into a plain tree and walks it by hand, so every problem names its key path and all of them
 * are reported together.
 */
final class YamlConfigLoader {
    private static final List<String> TOP_KEYS =
            List.of("listen", "routes", "upstreams", "timeouts", "limits", "workers", "access_log", "http2", "admin",
                    "request_id", "tracing", "reload", "policies", "default_policies", "trusted_proxies", "redis");
    private static final List<String> ROUTE_KEYS =
            List.of("path", "host", "upstream", "strip_prefix", "max_request_body", "upstream_tls", "policies",
                    "skip_default_policies", "grpc_web");
    private static final Pattern ROUTE_INDEX = Pattern.compile("^routes\\[(\\d+)]");

    private final List<String> problems = new ArrayList<>();
    /** The short-form keys of the routes, by index, so cross-record problems name them; null for the long form. */
    private List<String> routeKeys;
    private UpstreamsParser upstreams;
    private PoliciesParser policies;
    /** Reads the listener mappings and the TLS settings. */
    private final TlsConfigReader tls;
    /** Where relative file names are resolved: the config file's directory. */
    final Path baseDir;
    /** Whether the document has a {@code redis:} section, which {@code store: redis} needs. */
    private boolean redisConfigured;

    private YamlConfigLoader(Path baseDir) {
        this.tls = new TlsConfigReader(this, baseDir);
        this.baseDir = baseDir;
    }

    /** @return the reader of {@code tls} mappings and of the files they name */
    TlsConfigReader tlsReader() {
        return tls;
    }

    static ProxyConfig load(Path file) {
        Objects.requireNonNull(file, "file");
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException(file.toString(), List.of("cannot read file: " + reason(e)));
        }
        Path dir = file.toAbsolutePath().getParent();
        return parse(text, file.toString(), dir);
    }

    static ProxyConfig parse(String yaml, String source) {
        return parse(yaml, source, Path.of(""));
    }

    /** @param baseDir where relative file names (certificates, keys) are resolved: the config file's directory */
    static ProxyConfig parse(String yaml, String source, Path baseDir) {
        Objects.requireNonNull(yaml, "yaml");
        Objects.requireNonNull(source, "source");
        // CoreSchema: YAML 1.2 scalars, so "yes"/"on" stay strings instead of silently becoming booleans.
        LoadSettings settings = LoadSettings.builder().setLabel(source).setSchema(new CoreSchema())
                .setAllowDuplicateKeys(false).build();
        Object root;
        try {
            root = new Load(settings).loadFromString(yaml);
        } catch (YamlEngineException e) {
            throw new ConfigException(source, List.of(syntaxProblem(e)));
        } catch (StackOverflowError e) {
            // The engine composes nested collections recursively and has no depth limit of its own.
            throw new ConfigException(source, List.of("not valid YAML: collections nested too deeply"));
        }
        if (root == null) {
            throw new ConfigException(source, List.of("empty configuration: listen and routes are required"));
        }
        YamlConfigLoader loader = new YamlConfigLoader(baseDir);
        ProxyConfig config = loader.config(root);
        if (config == null) {
            throw new ConfigException(source, loader.problems);
        }
        return config;
    }

    private ProxyConfig config(Object root) {
        if (!(root instanceof Map)) {
            return problem("expected a mapping at the top level, got " + describe(root));
        }
        Map<String, Object> top = mapping(root, "", TOP_KEYS);
        int before = problems.size();
        List<ListenerConfig> listen = top.get("listen") == null
                ? problem("listen: is required (host:port or a list of them)") : listen(top.get("listen"));
        boolean listenOk = problems.size() == before;
        upstreams = new UpstreamsParser(this, tls);
        upstreams.parse(top.get("upstreams"));
        redisConfigured = top.containsKey("redis");
        RedisConfig redis = new RateLimitParser(this).redis(top.get("redis"), baseDir);
        policies = new PoliciesParser(this, policyClassLoader());
        policies.parseNamed(top.get("policies"));
        List<PolicyConfig> defaults = policies.list(top.get("default_policies"), "default_policies");
        List<Cidr> trusted = policies.trustedProxies(top.get("trusted_proxies"));
        before = problems.size();
        List<RouteConfig> routes = top.get("routes") == null
                ? problem("routes: is required (a list of routes)") : routes(top.get("routes"));
        // A route naming a broken upstream is null without a problem of its own (the upstream has one).
        boolean routesOk = problems.size() == before && routes != null && !routes.contains(null);
        TimeoutsLimitsReader sections = new TimeoutsLimitsReader(this);
        TimeoutsConfig timeouts = sections.timeouts(top.get("timeouts"));
        LimitsConfig limits = sections.limits(top.get("limits"));
        Integer workers = top.containsKey("workers") ? workers(top.get("workers")) : Integer.valueOf(0);
        OperationsConfigLoader ops = new OperationsConfigLoader(this);
        AccessLogConfig accessLog = ops.accessLog(top.get("access_log"));
        OperationsConfig operations = ops.operations(top);
        Http2Config http2 = new Http2ConfigReader(this).read(top.get("http2"));

        // Cross-record checks see only sections that parsed; a broken one already has its own problem.
        List<String> cross = ProxyConfig.problems(listenOk ? listen : List.of(), routesOk ? routes : List.of(),
                workers == null ? 0 : workers);
        if (listenOk && trusted != null) {
            cross.addAll(ProxyConfig.policyProblems(listen, new PoliciesConfig(List.of(), trusted)));
        }
        for (String p : cross) {
            if ((listenOk || !p.startsWith("listen")) && (routesOk || !p.startsWith("routes"))) {
                problems.add(shortFormPath(p));
            }
        }
        if (!problems.isEmpty()) {
            return null;
        }
        return new ProxyConfig(listen, routes, timeouts, limits, workers, accessLog, http2, operations,
                new PoliciesConfig(defaults, trusted), redis);
    }

    /** Custom policy classes come from the thread's context class loader (plugins), else Portico's own. */
    private static ClassLoader policyClassLoader() {
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        return context != null ? context : YamlConfigLoader.class.getClassLoader();
    }

    private List<ListenerConfig> listen(Object node) {
        List<ListenerConfig> result = new ArrayList<>();
        if (node instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                result.add(listener(list.get(i), "listen[" + i + "]", "host:port or a mapping with address"));
            }
        } else {
            result.add(listener(node, "listen", "host:port, a mapping with address, or a list of them"));
        }
        return result;
    }

    private ListenerConfig listener(Object node, String path, String expected) {
        if (node instanceof Map) {
            return tls.listener(node, path);
        }
        ListenAddress address = text(node, path, expected, ListenAddress::parse);
        return address == null ? null : ListenerConfig.plain(address);
    }

    private List<RouteConfig> routes(Object node) {
        List<RouteConfig> result = new ArrayList<>();
        if (node instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                result.add(route(list.get(i), "routes[" + i + "]"));
            }
        } else if (node instanceof Map<?, ?> map) {
            routeKeys = new ArrayList<>();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                String key = String.valueOf(e.getKey());
                routeKeys.add(key);
                result.add(shortRoute(key, e.getValue()));
            }
        } else {
            problem("routes: expected a list of routes or a mapping of path to upstream URL, got " + describe(node));
        }
        return result;
    }

    private RouteConfig shortRoute(String key, Object value) {
        String path = "routes." + key;
        String routePath = convert(path, () -> ConfigValues.routePath(key));
        UpstreamConfig upstream = upstreams.routeUpstream(value, path);
        if (routePath == null || upstream == null) {
            return null;
        }
        return convert(path, () -> new RouteConfig(routePath, "", upstream, false, RouteConfig.INHERIT));
    }

    private RouteConfig route(Object node, String path) {
        Map<String, Object> m = mapping(node, path, ROUTE_KEYS);
        if (m == null) {
            return null;
        }
        int before = problems.size();
        String routePath = m.get("path") == null ? problem(path + ".path: is required")
                : text(m.get("path"), path + ".path", "a path prefix such as /api", ConfigValues::routePath);
        String host = m.containsKey("host")
                ? text(m.get("host"), path + ".host", "a host name", ConfigValues::routeHost) : "";
        UpstreamConfig upstream = m.get("upstream") == null ? problem(path + ".upstream: is required")
                : upstreams.routeUpstream(m.get("upstream"), path + ".upstream");
        Boolean strip = m.containsKey("strip_prefix") ? bool(m.get("strip_prefix"), path + ".strip_prefix")
                : Boolean.FALSE;
        Long maxBody = m.containsKey("max_request_body")
                ? size(m.get("max_request_body"), path + ".max_request_body") : Long.valueOf(RouteConfig.INHERIT);
        UpstreamTlsConfig upstreamTls = m.get("upstream_tls") == null ? null
                : tls.upstreamTls(m.get("upstream_tls"), path + ".upstream_tls");
        List<PolicyConfig> routePolicies = policies.list(m.get("policies"), path + ".policies");
        Boolean skipDefaults = m.containsKey("skip_default_policies")
                ? bool(m.get("skip_default_policies"), path + ".skip_default_policies") : Boolean.FALSE;
        Boolean grpcWeb = m.containsKey("grpc_web") ? bool(m.get("grpc_web"), path + ".grpc_web") : Boolean.FALSE;
        if (problems.size() != before || upstream == null || routePolicies == null) {
            return null;
        }
        UpstreamConfig target = upstream;
        if (upstreamTls != null) {
            if (!upstream.name().isEmpty()) {
                return problem(path + ".upstream_tls: the route names upstream \"" + upstream.name()
                        + "\": set tls under upstreams." + upstream.name() + " instead");
            }
            if (!upstream.anyTls()) {
                return problem(path + ".upstream_tls: needs an https:// upstream");
            }
            target = upstream.withTls(upstreamTls);
        }
        UpstreamConfig chosen = target;
        return build(path, ROUTE_KEYS, () -> new RouteConfig(routePath, host, chosen, strip, maxBody,
                routePolicies, skipDefaults, grpcWeb));
    }

    /** @return the positive duration at {@code path}, or null after reporting why it is not one */
    Duration positiveDuration(Object value, String path) {
        Duration d = anyDuration(value, path);
        if (d != null && (d.isZero() || d.isNegative())) {
            return problem(path + ": must be positive, got \"" + value + "\"");
        }
        return d;
    }

    /** @return the duration at {@code path} (zero allowed), or null after reporting why it is not one */
    Duration anyDuration(Object value, String path) {
        if (value instanceof Number n && n.longValue() == 0 && !(value instanceof Double)) {
            return Duration.ZERO;
        }
        if (value instanceof Number) {
            return problem(path + ": " + value + " needs a unit, e.g. 5s");
        }
        return text(value, path, "a duration such as 5s", YamlConfigLoader::parseDuration);
    }

    Long count(Object node, String path) {
        if (node instanceof Integer || node instanceof Long) {
            return ((Number) node).longValue();
        }
        return problem(path + ": expected a whole number, got " + describe(node));
    }

    private Integer workers(Object node) {
        if (node instanceof Integer i) {
            return i;
        }
        if (node instanceof Number n && !(node instanceof Double)) {
            return problem("workers: must be between 0 (one per core) and " + ProxyConfig.MAX_WORKERS + ", got " + n);
        }
        return problem("workers: expected a whole number, got " + describe(node));
    }

    /** @return the mapping with string keys, unknown keys reported and dropped; null if it is not a mapping */
    Map<String, Object> mapping(Object node, String path, List<String> known) {
        if (!(node instanceof Map<?, ?> map)) {
            return problem(path + ": expected a mapping, got " + describe(node));
        }
        Map<String, Object> result = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = String.valueOf(e.getKey());
            if (known.contains(key)) {
                result.put(key, e.getValue());
            } else {
                problems.add((path.isEmpty() ? key : path + "." + key) + ": unknown key (known: "
                        + String.join(", ", known) + ")");
            }
        }
        return result;
    }

    /** @return the string {@code node} parsed, or null after reporting why it is not a string or not valid */
    <T> T text(Object node, String path, String expected, Function<String, T> parser) {
        if (node instanceof String s) {
            return convert(path, () -> parser.apply(s));
        }
        return problem(path + ": expected " + expected + ", got " + describe(node));
    }

    Boolean bool(Object node, String path) {
        return node instanceof Boolean b ? b : problem(path + ": expected true or false, got " + describe(node));
    }

    /** A YAML int is plain bytes; handing its text to parseSize gives negative and huge numbers the same messages. */
    Long size(Object node, String path) {
        if (node instanceof String || node instanceof Number) {
            return convert(path, () -> ConfigValues.parseSize(String.valueOf(node)));
        }
        return problem(path + ": expected a size such as 64KiB, got " + describe(node));
    }

    boolean redisConfigured() {
        return redisConfigured;
    }

    int problemCount() {
        return problems.size();
    }

    <T> T problem(String problem) {
        problems.add(problem);
        return null;
    }

    /** @return the converted value, or null after reporting the conversion's message under {@code path} */
    <T> T convert(String path, Supplier<T> conversion) {
        try {
            return conversion.get();
        } catch (IllegalArgumentException e) {
            problems.add(path + ": " + e.getMessage());
            return null;
        }
    }

    static Duration parseDuration(String text) {
        try {
            return ConfigValues.parseDuration(text);
        } catch (ArithmeticException e) {
            // ConfigValues.parseDuration lets Duration.ofMinutes/ofHours overflow escape on absurd values.
            throw new IllegalArgumentException("duration out of range: \"" + text + "\"");
        }
    }

    /** Builds a record, reporting a failure under {@code path.key} when its message starts with a known key. */
    <T> T build(String path, List<String> keys, Supplier<T> constructor) {
        try {
            return constructor.get();
        } catch (IllegalArgumentException e) {
            String message = String.valueOf(e.getMessage());
            for (String key : keys) {
                if (message.startsWith(key + " ")) {
                    problems.add(path + "." + key + ": " + message.substring(key.length() + 1));
                    return null;
                }
            }
            problems.add(path + ": " + message);
            return null;
        }
    }

    private String shortFormPath(String problem) {
        Matcher m = ROUTE_INDEX.matcher(problem);
        if (routeKeys == null || !m.find()) {
            return problem;
        }
        return "routes." + routeKeys.get(Integer.parseInt(m.group(1))) + problem.substring(m.end());
    }

    static String describe(Object node) {
        if (node == null) {
            return "nothing";
        }
        if (node instanceof Map) {
            return "a mapping";
        }
        if (node instanceof List) {
            return "a list";
        }
        if (node instanceof String s) {
            return "\"" + s + "\"";
        }
        return String.valueOf(node);
    }

    private static String syntaxProblem(YamlEngineException e) {
        if (e instanceof MarkedYamlEngineException marked) {
            String problem = marked.getProblem();
            String where = marked.getProblemMark().map(YamlConfigLoader::position).orElse("");
            String context = marked.getContext() == null ? ""
                    : " (" + marked.getContext() + marked.getContextMark().map(m -> " at " + position(m)).orElse("")
                    + ")";
            return (where.isEmpty() ? "" : where + ": ") + problem + context;
        }
        // Unmarked: a failed tag constructor (e.g. !!int abc), or a loader limit such as the alias count.
        Throwable cause = e.getCause() == null ? e : e.getCause();
        return "not valid YAML: " + cause.getMessage();
    }

    private static String position(Mark mark) {
        return "line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1);
    }

    static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "No such file";
        }
        if (e instanceof AccessDeniedException) {
            return "Permission denied";
        }
        if (e instanceof CharacterCodingException) {
            return "not UTF-8 text";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
