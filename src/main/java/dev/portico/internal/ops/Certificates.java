package dev.portico.internal.ops;

import dev.portico.config.CertificateConfig;
import dev.portico.config.ListenerTlsConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.internal.pem.PemFiles;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The certificates the listeners (and the admin listener) serve, with their names and days to expiry, for the
 * dashboard. The files are read again when the configuration changes and once a minute, so a rotated certificate
 * shows; used by the sampling thread alone.
 */
final class Certificates {
    private static final long REREAD_MILLIS = TimeUnit.MINUTES.toMillis(1);

    private ProxyConfig readFor;
    private long readAt;
    private String json = "[]";

    /**
     * @param config the running configuration
     * @param now the time, in milliseconds since the epoch
     * @return the certificates as a JSON array
     */
    String json(ProxyConfig config, long now) {
        if (config == readFor && now - readAt < REREAD_MILLIS) {
            return json;
        }
        StringBuilder sb = new StringBuilder("[");
        List<String> seen = new ArrayList<>();
        for (int i = 0; i < config.listen().size(); i++) {
            add(sb, "listen[" + i + "].tls", config.listen().get(i).tls(), now, seen);
        }
        add(sb, "admin.tls", config.operations().admin().tls(), now, seen);
        readFor = config;
        readAt = now;
        json = sb.append(']').toString();
        return json;
    }

    private static void add(StringBuilder sb, String key, ListenerTlsConfig tls, long now, List<String> seen) {
        if (tls == null) {
            return;
        }
        for (int i = 0; i < tls.certificates().size(); i++) {
            CertificateConfig c = tls.certificates().get(i);
            if (seen.size() > 0) {
                sb.append(',');
            }
            seen.add(key);
            sb.append("{\"key\":");
            ConfigJson.string(sb, key + ".certificates[" + i + "]");
            sb.append(",\"file\":");
            ConfigJson.string(sb, c.certificate().toString());
            try {
                X509Certificate cert = PemFiles.certificates(c.certificate()).get(0);
                long notAfter = cert.getNotAfter().getTime();
                sb.append(",\"names\":[");
                List<String> names = names(cert);
                for (int n = 0; n < names.size(); n++) {
                    if (n > 0) {
                        sb.append(',');
                    }
                    ConfigJson.string(sb, names.get(n));
                }
                sb.append("],\"notAfter\":").append(notAfter).append(",\"days\":")
                        .append(Math.floorDiv(notAfter - now, TimeUnit.DAYS.toMillis(1))).append('}');
            } catch (RuntimeException e) {
                sb.append(",\"error\":");
                ConfigJson.string(sb, String.valueOf(e.getMessage()));
                sb.append('}');
            }
        }
    }

    /** The DNS names of the subject alternative names, else the subject. */
    private static List<String> names(X509Certificate cert) {
        List<String> out = new ArrayList<>();
        try {
            if (cert.getSubjectAlternativeNames() != null) {
                for (List<?> san : cert.getSubjectAlternativeNames()) {
                    if (Integer.valueOf(2).equals(san.get(0))) {
                        out.add(String.valueOf(san.get(1)));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // no usable names: the subject says who it is
        }
        if (out.isEmpty()) {
            out.add(cert.getSubjectX500Principal().getName());
        }
        return out;
    }
}
