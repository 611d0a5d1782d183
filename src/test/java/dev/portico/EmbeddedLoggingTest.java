package dev.portico;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An application that embeds Portico and has its own {@code logback.xml} keeps its logging: Portico's classes on
 * the class path configure nothing. Checked in a class loader of its own (Portico's classes, SLF4J, Logback and a
 * directory with the host's {@code logback.xml}), so the test's own Logback set-up plays no part.
 */
class EmbeddedLoggingTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(30)
    void theHostApplicationsLogbackXmlIsUsed() throws Exception {
        Path log = dir.resolve("host.log");
        Path conf = Files.createDirectory(dir.resolve("conf"));
        Files.writeString(conf.resolve("logback.xml"), """
                <configuration>
                  <appender name="HOST" class="ch.qos.logback.core.FileAppender">
                    <file>%s</file>
                    <encoder><pattern>HOST %%logger %%msg%%n</pattern></encoder>
                  </appender>
                  <root level="INFO"><appender-ref ref="HOST"/></root>
                </configuration>
                """.formatted(log));
        URL[] path = {
            conf.toUri().toURL(),
            location(ProxyServer.class),
            location(org.slf4j.LoggerFactory.class),
            location(ch.qos.logback.classic.LoggerContext.class),
            location(ch.qos.logback.core.Context.class),
        };

        try (URLClassLoader host = new URLClassLoader(path, ClassLoader.getPlatformClassLoader())) {
            Class<?> factory = host.loadClass("org.slf4j.LoggerFactory");
            Object logger = factory.getMethod("getLogger", String.class).invoke(null, "portico");
            logger.getClass().getMethod("info", String.class).invoke(logger, "from the embedded proxy");
            Object context = factory.getMethod("getILoggerFactory").invoke(null);
            context.getClass().getMethod("stop").invoke(context); // closes the file
        }

        assertThat(log).exists();
        assertThat(Files.readString(log)).contains("HOST portico from the embedded proxy");
    }

    private static URL location(Class<?> c) throws Exception {
        return c.getProtectionDomain().getCodeSource().getLocation();
    }
}
