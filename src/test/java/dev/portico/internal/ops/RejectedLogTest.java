package dev.portico.internal.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/** The WARN line of a refused request shows its target escaped, as the access log does: no raw control bytes. */
@Timeout(30)
class RejectedLogTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    private final TestBackend backend = TestBackend.echo();
    private final Logger logger = (Logger) LoggerFactory.getLogger("portico");
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    @BeforeEach
    void capture() {
        appender.setContext(logger.getLoggerContext());
        appender.start();
        logger.addAppender(appender);
    }

    @AfterEach
    void release() {
        logger.detachAppender(appender);
        backend.close();
    }

    @Test
    void rejectedLineEscapesTerminalControlSequencesInTheTarget() throws Exception {
        portico.start(b -> b.route("/", backend.url()));
        try (RawClient c = portico.raw()) {
            c.send("GET /a\u001b]0;owned\u0007\u001b[2J\u00ff HTTP/1.1\r\nHost: a\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            assertThat(c.read().status()).isEqualTo(400);
        }

        await().until(() -> rejected().size() == 1);
        String line = rejected().get(0);
        assertThat(line).doesNotContain("\u001b", "\u0007", "\u00ff")
                .contains("GET /a\\x1b]0;owned\\x07\\x1b[2J\\xff");
    }

    private List<String> rejected() {
        synchronized (appender) {
            return appender.list.stream().map(ILoggingEvent::getFormattedMessage)
                    .filter(m -> m.contains(" rejected ")).toList();
        }
    }
}
