package dev.portico.config;

import dev.portico.config.ListenerTlsConfig.ClientAuth;
import dev.portico.internal.pem.PemFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The YAML loader's part for listener mappings, {@code tls} and {@code upstream_tls}. Certificate, key and CA files
 * are read here too, so a missing or bad one is reported with its key path (and by {@code --check}); they are read
 * again when the TLS contexts are built at start-up and whenever they change.
 */
final class TlsConfigReader {
    private static final List<String> PAIR_KEYS = List.of("certificate", "key");
    private static final List<String> LISTENER_KEYS = List.of("address", "tls", "redirect_https", "h2c",
            "proxy_protocol", "http3");
    private static final List<String> TLS_KEYS = List.of("certificates", "certificate", "key", "protocols", "alpn",
            "client_auth", "client_ca");
    private static final List<String> CERTIFICATE_KEYS = List.of("certificate", "key");
    private static final List<String> UPSTREAM_TLS_KEYS = List.of("ca", "server_name", "certificate", "key",
            "insecure_skip_verify");

    private final YamlConfigLoader loader;
    private final Path baseDir;

    TlsConfigReader(YamlConfigLoader loader, Path baseDir) {
        this.loader = loader;
        this.baseDir = baseDir;
    }

    /** A listener in mapping form: {@code {address, tls, redirect_https, h2c, proxy_protocol, http3}}. */
    ListenerConfig listener(Object node, String path) {
        Map<String, Object> m = loader.mapping(node, path, LISTENER_KEYS);
        if (m == null) {
            return null;
        }
        int before = problems();
        ListenAddress address = m.get("address") == null ? loader.problem(path + ".address: is required (host:port)")
                : loader.text(m.get("address"), path + ".address", "host:port", ListenAddress::parse);
        ListenerTlsConfig tls = m.get("tls") == null ? null : tls(m.get("tls"), path + ".tls");
        Boolean redirect = m.containsKey("redirect_https")
                ? loader.bool(m.get("redirect_https"), path + ".redirect_https") : Boolean.FALSE;
        Boolean h2c = m.containsKey("h2c") ? loader.bool(m.get("h2c"), path + ".h2c") : Boolean.FALSE;
        Boolean proxyProtocol = m.containsKey("proxy_protocol")
                ? loader.bool(m.get("proxy_protocol"), path + ".proxy_protocol") : Boolean.FALSE;
        Boolean http3 = m.containsKey("http3") ? loader.bool(m.get("http3"), path + ".http3") : Boolean.FALSE;
        if (problems() != before) {
            return null;
        }
        if (tls != null && h2c) {
            return loader.problem(path + ".h2c: is for plain listeners; a TLS listener offers h2 through tls.alpn");
        }
        if (tls != null && redirect) {
            return loader.problem(path + ".redirect_https: is for plain listeners; this one has tls");
        }
        if (tls == null && http3) {
            return loader.problem(path + ".http3: needs tls (QUIC is always encrypted); add tls or remove http3");
        }
        return loader.build(path, LISTENER_KEYS, () -> new ListenerConfig(address.withH2c(h2c), tls, redirect,
                proxyProtocol, http3));
    }

    ListenerTlsConfig tls(Object node, String path) {
        Map<String, Object> m = loader.mapping(node, path, TLS_KEYS);
        if (m == null) {
            return null;
        }
        int before = problems();
        List<CertificateConfig> certificates = certificates(m, path);
        List<String> protocols = m.containsKey("protocols")
                ? names(m.get("protocols"), path + ".protocols") : ListenerTlsConfig.DEFAULT_PROTOCOLS;
        List<String> alpn = m.containsKey("alpn") ? names(m.get("alpn"), path + ".alpn")
                : ListenerTlsConfig.DEFAULT_ALPN;
        ClientAuth clientAuth = m.containsKey("client_auth")
                ? loader.text(m.get("client_auth"), path + ".client_auth", "none, optional or require",
                        ClientAuth::parse)
                : ClientAuth.NONE;
        Path clientCa = m.get("client_ca") == null ? null : certificates(m.get("client_ca"), path + ".client_ca");
        if (problems() != before) {
            return null;
        }
        return loader.build(path, TLS_KEYS,
                () -> new ListenerTlsConfig(certificates, protocols, alpn, clientAuth, clientCa));
    }

    /** Either {@code certificates: [{certificate, key}, ...]} or the short form {@code certificate} and {@code key}. */
    private List<CertificateConfig> certificates(Map<String, Object> m, String path) {
        boolean shortForm = m.containsKey("certificate") || m.containsKey("key");
        if (m.containsKey("certificates") && shortForm) {
            return loader.problem(path + ": give either certificates or certificate and key, not both");
        }
        if (shortForm) {
            CertificateConfig c = certificate(m, path);
            return c == null ? null : List.of(c);
        }
        Object node = m.get("certificates");
        if (!(node instanceof List<?> list) || list.isEmpty()) {
            return loader.problem(path + ".certificates: expected a list of {certificate, key}, got "
                    + (node instanceof List ? "an empty list" : YamlConfigLoader.describe(node)));
        }
        List<CertificateConfig> result = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String p = path + ".certificates[" + i + "]";
            Map<String, Object> c = loader.mapping(list.get(i), p, CERTIFICATE_KEYS);
            result.add(c == null ? null : certificate(c, p));
        }
        return result.contains(null) ? null : result;
    }

    private CertificateConfig certificate(Map<String, Object> m, String path) {
        Path[] pair = pair(m, path, true);
        return pair == null ? null : new CertificateConfig(pair[0], pair[1]);
    }

    /** @return the certificate and key files, checked to hold a matching pair; {null, null} if optional and absent */
    private Path[] pair(Map<String, Object> m, String path, boolean required) {
        if (!required && m.get("certificate") == null && m.get("key") == null) {
            return new Path[2];
        }
        Path certificate = m.get("certificate") == null ? loader.problem(path + ".certificate: is required")
                : file(m.get("certificate"), path + ".certificate");
        Path key = m.get("key") == null ? loader.problem(path + ".key: is required") : file(m.get("key"), path + ".key");
        if (certificate == null || key == null) {
            return null;
        }
        // The record reads both files and checks the pair, as it does for configurations built in Java.
        CertificateConfig checked = loader.build(path, PAIR_KEYS, () -> new CertificateConfig(certificate, key));
        return checked == null ? null : new Path[] {certificate, key};
    }

    /** @return a readable PEM file with at least one certificate */
    private Path certificates(Object node, String path) {
        Path file = file(node, path);
        if (file == null || loader.convert(path, () -> PemFiles.certificates(file)) == null) {
            return null;
        }
        return file;
    }

    /** A route's {@code upstream_tls}. */
    UpstreamTlsConfig upstreamTls(Object node, String path) {
        Map<String, Object> m = loader.mapping(node, path, UPSTREAM_TLS_KEYS);
        if (m == null) {
            return null;
        }
        int before = problems();
        Path ca = m.get("ca") == null ? null : certificates(m.get("ca"), path + ".ca");
        String serverName = m.get("server_name") == null ? null
                : loader.text(m.get("server_name"), path + ".server_name", "a host name", s -> s);
        Path[] pair = pair(m, path, false);
        Boolean insecure = m.containsKey("insecure_skip_verify")
                ? loader.bool(m.get("insecure_skip_verify"), path + ".insecure_skip_verify") : Boolean.FALSE;
        if (problems() != before) {
            return null;
        }
        return loader.build(path, UPSTREAM_TLS_KEYS,
                () -> new UpstreamTlsConfig(ca, serverName, pair[0], pair[1], insecure));
    }

    private List<String> names(Object node, String path) {
        if (!(node instanceof List<?> list)) {
            return loader.problem(path + ": expected a list, got " + YamlConfigLoader.describe(node));
        }
        List<String> result = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof String s)) {
                return loader.problem(path + "[" + i + "]: expected a name, got "
                        + YamlConfigLoader.describe(list.get(i)));
            }
            result.add(s);
        }
        return result;
    }

    /** @return the file, resolved against the config file's directory, if it can be read */
    Path file(Object node, String path) {
        Path file = loader.text(node, path, "a file name", s -> {
            if (s.isBlank()) {
                throw new IllegalArgumentException("file name is empty");
            }
            return baseDir.resolve(s);
        });
        if (file == null) {
            return null;
        }
        if (Files.isDirectory(file)) {
            return loader.problem(path + ": \"" + file + "\" is a directory, not a file");
        }
        try {
            Files.newByteChannel(file).close();
            return file;
        } catch (IOException e) {
            return loader.problem(path + ": cannot read \"" + file + "\": " + YamlConfigLoader.reason(e));
        }
    }

    private int problems() {
        return loader.problemCount();
    }
}
