package dev.portico.config;

import java.util.List;
import java.util.Map;

/**
 * Reads the operations sections of the YAML tree ({@code access_log}, {@code admin}, {@code request_id},
 * {@code tracing}, {@code reload}) with the problem reporting of {@link YamlConfigLoader}.
 */
final class OperationsConfigLoader {
    private static final List<String> ACCESS_LOG_KEYS = List.of("enabled", "format", "path");
    private static final List<String> ADMIN_KEYS = List.of("listen", "tls", "auth", "insecure");
    private static final List<String> REQUEST_ID_KEYS = List.of("enabled", "header");
    private static final List<String> TRACING_KEYS = TracingParser.KEYS;
    private static final List<String> RELOAD_KEYS = List.of("watch");

    private final YamlConfigLoader loader;

    OperationsConfigLoader(YamlConfigLoader loader) {
        this.loader = loader;
    }

    /** @return the access log settings, or null after reporting problems */
    AccessLogConfig accessLog(Object node) {
        AccessLogConfig d = AccessLogConfig.DEFAULTS;
        if (node == null) {
            return d;
        }
        Map<String, Object> m = loader.mapping(node, "access_log", ACCESS_LOG_KEYS);
        if (m == null) {
            return null;
        }
        Boolean enabled = m.containsKey("enabled") ? loader.bool(m.get("enabled"), "access_log.enabled") : Boolean.valueOf(d.enabled());
        AccessLogConfig.Format format = m.containsKey("format") ? loader.text(m.get("format"), "access_log.format",
                "combined or json", AccessLogConfig.Format::parse) : d.format();
        String path = m.containsKey("path") ? loader.text(m.get("path"), "access_log.path",
                "stdout or a file path", s -> s) : d.path();
        if (enabled == null || format == null || path == null) {
            return null;
        }
        return loader.build("access_log", ACCESS_LOG_KEYS, () -> new AccessLogConfig(enabled, format, path));
    }

    /** @return the admin, request id, tracing and reload settings, or null after reporting problems */
    OperationsConfig operations(Map<String, Object> top) {
        OperationsConfig d = OperationsConfig.DEFAULTS;
        boolean ok = true;
        ListenAddress admin = d.adminListen();
        AdminConfig protection = d.admin();
        if (top.get("admin") != null) {
            Map<String, Object> m = loader.mapping(top.get("admin"), "admin", ADMIN_KEYS);
            if (m != null && m.get("listen") != null) {
                admin = loader.text(m.get("listen"), "admin.listen", "host:port", ListenAddress::parse);
                protection = new AdminConfigReader(loader).read(m);
                ok = admin != null && protection != null;
            } else {
                ok = loader.problem("admin.listen: is required in an admin section (host:port)") != null;
            }
        }
        Boolean idEnabled = d.requestIdEnabled();
        String idHeader = d.requestIdHeader();
        if (top.get("request_id") != null) {
            Map<String, Object> m = loader.mapping(top.get("request_id"), "request_id", REQUEST_ID_KEYS);
            if (m != null) {
                if (m.containsKey("enabled")) {
                    idEnabled = loader.bool(m.get("enabled"), "request_id.enabled");
                }
                if (m.containsKey("header")) {
                    idHeader = loader.text(m.get("header"), "request_id.header", "a header name",
                            OperationsConfigLoader::headerName);
                }
            }
            ok &= m != null && idEnabled != null && idHeader != null;
        }
        Boolean generate = flag(top, "tracing", TRACING_KEYS, "generate", d.generateTraceparent());
        Boolean watch = flag(top, "reload", RELOAD_KEYS, "watch", d.watch());
        TracingConfig tracing = new TracingParser(loader).tracing(top.get("tracing"));
        if (!ok || generate == null || watch == null || tracing == null) {
            return null;
        }
        ListenAddress adminListen = admin;
        AdminConfig adminConfig = protection;
        boolean requestIds = idEnabled;
        String header = idHeader;
        try {
            adminConfig.checkExposure(adminListen);
        } catch (IllegalArgumentException e) {
            return loader.problem("admin." + e.getMessage().replaceFirst(" ", ": "));
        }
        return loader.build("request_id", REQUEST_ID_KEYS,
                () -> new OperationsConfig(adminListen, requestIds, header, generate, watch, adminConfig,
                        tracing));
    }

    private Boolean flag(Map<String, Object> top, String section, List<String> keys, String key, boolean dflt) {
        if (top.get(section) == null) {
            return dflt;
        }
        Map<String, Object> m = loader.mapping(top.get(section), section, keys);
        if (m == null) {
            return null;
        }
        return m.containsKey(key) ? loader.bool(m.get(key), section + "." + key) : Boolean.valueOf(dflt);
    }

    private static String headerName(String name) {
        new OperationsConfig(null, true, name, false, false); // validates
        return name;
    }
}
