package dev.portico.internal.tls;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import java.util.Locale;

/**
 * Which TLS implementation Portico uses: OpenSSL (netty-tcnative's statically linked BoringSSL) where its native
 * library loads, the JDK's otherwise. The system property {@code portico.tls.provider} ({@code jdk} or
 * {@code openssl}) forces one.
 */
public final class TlsProvider {
    /** The system property that forces a provider. */
    public static final String PROPERTY = "portico.tls.provider";

    private TlsProvider() {
    }

    /** @return the provider to build every server and client context with */
    public static SslProvider get() {
        String forced = System.getProperty(PROPERTY, "").trim().toLowerCase(Locale.ROOT);
        if (forced.equals("jdk")) {
            return SslProvider.JDK;
        }
        if (forced.equals("openssl")) {
            OpenSsl.ensureAvailability();
            return SslProvider.OPENSSL;
        }
        return OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    /** @return a line for the start-up log naming the provider, and why OpenSSL is not used if it is not */
    public static String describe() {
        SslProvider p = get();
        if (p == SslProvider.OPENSSL) {
            return "TLS provider: OpenSSL (" + OpenSsl.versionString() + ")";
        }
        Throwable why = OpenSsl.unavailabilityCause();
        return "TLS provider: JDK (" + System.getProperty("java.vendor") + " " + System.getProperty("java.version")
                + (why == null ? "; chosen by " + PROPERTY : "; OpenSSL unavailable: " + why) + ")";
    }
}
