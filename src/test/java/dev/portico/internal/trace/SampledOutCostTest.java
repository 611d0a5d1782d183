package dev.portico.internal.trace;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.management.ThreadMXBean;
import dev.portico.config.TracingConfig;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A request the sampler leaves out costs no allocation: the decision is made before the SDK is asked. */
@Timeout(30)
class SampledOutCostTest {
    private static final ThreadMXBean THREADS = (ThreadMXBean) ManagementFactory.getThreadMXBean();

    @Test
    void deciding200000SampledOutRequestsAllocatesNothing() {
        Tracing tracing = SdkExport.start(TracingConfig.builder().otlp("http://127.0.0.1:9").samplerRatio(0).build(),
                new Drops());
        try {
            HttpRequest root = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/api/x");
            root.headers().set("host", "example.com").set("user-agent", "test");
            HttpRequest notSampled = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/api/x");
            notSampled.headers().set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
            for (int i = 0; i < 200_000; i++) { // warm up: the allocation below is that of compiled code
                tracing.server(root, "/api", "127.0.0.1", false, 0);
                tracing.server(notSampled, "/api", "127.0.0.1", false, 0);
            }
            long tid = Thread.currentThread().getId();
            long before = THREADS.getThreadAllocatedBytes(tid);
            int traced = 0;
            for (int i = 0; i < 100_000; i++) {
                traced += tracing.server(root, "/api", "127.0.0.1", false, 0) == null ? 0 : 1;
                traced += tracing.server(notSampled, "/api", "127.0.0.1", false, 0) == null ? 0 : 1;
            }
            long allocated = THREADS.getThreadAllocatedBytes(tid) - before;

            assertThat(traced).isZero();
            assertThat(allocated).as("bytes allocated for 200,000 sampled-out requests").isLessThan(1024);
        } finally {
            tracing.close();
        }
    }
}
