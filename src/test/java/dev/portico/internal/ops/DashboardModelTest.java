package dev.portico.internal.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.ProxyConfig;
import dev.portico.internal.server.ProxyRuntime;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The dashboard's model: deltas carry only what changed, a removed route is named gone, and its cost. */
class DashboardModelTest {
    private static ProxyConfig routes(int n, int skip) {
        ProxyConfig.Builder b = ProxyConfig.builder().listen("127.0.0.1:0").workers(1);
        for (int i = 0; i < n; i++) {
            if (i != skip) {
                b.route("/r" + i, "http://127.0.0.1:9");
            }
        }
        return b.build();
    }

    @Test
    @Timeout(60)
    void deltasCarryOnlyChangesAndNameRemovedRoutes() {
        ProxyRuntime runtime = ProxyRuntime.start(routes(3, -1));
        try {
            DashboardModel model = new DashboardModel(runtime, () -> null, new Certificates());
            DashboardModel.Sample first = model.sample();
            assertThat(first.full()).contains("\"/r0 http://127.0.0.1:9\"", "\"/r2 http://127.0.0.1:9\"",
                    "\"config\":{");
            DashboardModel.Sample idle = model.sample();
            assertThat(idle.delta()).contains("\"routes\":{}", "\"routesGone\":[]", "\"sections\":{}");

            runtime.reload(routes(3, 1));
            DashboardModel.Sample after = model.sample();

            assertThat(after.delta()).contains("\"routesGone\":[\"/r1 http://127.0.0.1:9\"]", "\"config\":{")
                    .contains("\"/r2 http://127.0.0.1:9\":{\"o\":1");
            assertThat(after.full()).doesNotContain("/r1 ");
        } finally {
            runtime.stop(Duration.ZERO);
        }
    }

    @Test
    @Timeout(120)
    void samplesAThousandRoutesQuickly() {
        ProxyRuntime runtime = ProxyRuntime.start(routes(1000, -1));
        try {
            DashboardModel model = new DashboardModel(runtime, () -> null, new Certificates());
            for (int i = 0; i < 30; i++) {
                model.sample(); // as a running sampler would be, after its first half minute
            }
            int n = 20;
            long t0 = System.nanoTime();
            DashboardModel.Sample s = null;
            for (int i = 0; i < n; i++) {
                s = model.sample();
            }
            long perSample = (System.nanoTime() - t0) / n;
            System.out.printf("dashboard model, 1000 routes: %.1f ms per sample, whole state %d KiB, idle delta %d "
                    + "bytes%n", perSample / 1e6, s.full().length() / 1024, s.delta().length());

            assertThat(Duration.ofNanos(perSample)).as("one sample of 1000 routes").isLessThan(Duration.ofMillis(500));
            assertThat(s.delta().length()).as("an idle delta").isLessThan(1000);
        } finally {
            runtime.stop(Duration.ZERO);
        }
    }
}
