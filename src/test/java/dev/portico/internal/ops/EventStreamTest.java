package dev.portico.internal.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.ProxyServer;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.TestBackend;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.ReferenceCountUtil;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * The dashboard's event stream: whole state then deltas, numbers (routes, policy decisions, caches) that follow
 * traffic, many and slow subscribers.
 */
class EventStreamTest {
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final TestBackend backend = TestBackend.echo();
    private ProxyServer proxy;

    @TempDir
    Path dir;

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        backend.close();
    }

    private void start() throws Exception {
        Path file = dir.resolve("portico.yaml");
        Files.writeString(file, "listen: 127.0.0.1:0\nworkers: 1\naccess_log: {enabled: false}\n"
                + "admin: {listen: 127.0.0.1:0}\nroutes:\n  /a: \"" + backend.url() + "\"\n  /b: \""
                + backend.url() + "\"\n");
        proxy = new ProxyServer(ProxyConfig.load(file), file).start();
    }

    /** One event: its name and its data line. */
    private record Event(String name, String data) {
    }

    private static Event next(Iterator<String> lines) {
        String name = null;
        String data = null;
        while (lines.hasNext()) {
            String line = lines.next();
            if (line.startsWith("event: ")) {
                name = line.substring(7);
            } else if (line.startsWith("data: ")) {
                data = line.substring(6);
            } else if (line.isEmpty() && name != null) {
                return new Event(name, data);
            }
        }
        throw new AssertionError("the stream ended");
    }

    private static double rps(String json, String route) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(route) + " [^\"]*\":\\{[^}]*\"rps\":([0-9.]+)")
                .matcher(json);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    @Test
    @Timeout(60)
    void sendsTheWholeStateThenDeltasThatFollowTheTraffic() throws Exception {
        start();
        URI events = URI.create("http://127.0.0.1:" + proxy.adminAddress().getPort() + "/events");
        var response = CLIENT.send(HttpRequest.newBuilder(events).build(), BodyHandlers.ofLines());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("text/event-stream; charset=utf-8");
        try (Stream<String> body = response.body()) {
            Iterator<String> lines = body.iterator();
            Event first = next(lines);
            assertThat(first.name()).isEqualTo("full");
            assertThat(first.data()).contains("\"/a http://").contains("\"/b http://").contains("\"listeners\":[")
                    .contains("\"config\":{").contains("\"history\":[").doesNotContain("\n");
            assertThat(rps(first.data(), "/a")).isZero();

            Thread load = new Thread(() -> {
                for (int i = 0; i < 200 && !Thread.currentThread().isInterrupted(); i++) {
                    try {
                        CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/a/x"))
                                .build(), BodyHandlers.discarding());
                        Thread.sleep(10);
                    } catch (Exception e) {
                        return;
                    }
                }
            });
            load.start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                double seen = 0;
                Event delta = null;
                while (seen <= 0 && System.nanoTime() < deadline) {
                    delta = next(lines);
                    assertThat(delta.name()).isEqualTo("delta");
                    seen = rps(delta.data(), "/a");
                }
                assertThat(seen).as("requests/s of /a in a delta").isPositive();
                // A delta carries what changed: /b had no traffic, so its row is not sent again.
                assertThat(delta.data()).doesNotContain("\"/b http://");
            } finally {
                load.interrupt();
                load.join();
            }
        }
    }

    @Test
    @Timeout(60)
    void deltasCarryLimitedDecisionsOfARateLimitAndTheHitsOfACache() throws Exception {
        TestBackend cacheable = TestBackend.start((req, ctx) -> {
            io.netty.handler.codec.http.FullHttpResponse r = TestBackend.text(
                    io.netty.handler.codec.http.HttpResponseStatus.OK, "ok");
            r.headers().set("Cache-Control", "max-age=60");
            ctx.writeAndFlush(r);
        });
        try {
            Path file = dir.resolve("portico.yaml");
            Files.writeString(file, "listen: 127.0.0.1:0\nworkers: 1\naccess_log: {enabled: false}\n"
                    + "admin: {listen: 127.0.0.1:0}\nroutes:\n"
                    + "  - {path: /limited, upstream: \"" + backend.url() + "\", policies: [{rate_limit: {rate: 2/m}}]}\n"
                    + "  - {path: /cached, upstream: \"" + cacheable.url() + "\", policies: [{cache: {}}]}\n");
            proxy = new ProxyServer(ProxyConfig.load(file), file).start();
            URI events = URI.create("http://127.0.0.1:" + proxy.adminAddress().getPort() + "/events");
            var response = CLIENT.send(HttpRequest.newBuilder(events).build(), BodyHandlers.ofLines());
            try (Stream<String> body = response.body()) {
                Iterator<String> lines = body.iterator();
                Map<?, ?> full = sections(next(lines).data());
                assertThat(((Map<?, ?>) ((Map<?, ?>) full.get("cache")).get("all")).get("h")).isEqualTo(0);

                int limited = 0;
                for (int i = 0; i < 5; i++) {
                    limited += get("/limited") == 429 ? 1 : 0;
                }
                for (int i = 0; i < 4; i++) {
                    get("/cached/x"); // a miss, then hits
                }
                assertThat(limited).isEqualTo(3);

                Object decisions = null;
                Object hits = null;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while ((decisions == null || hits == null) && System.nanoTime() < deadline) {
                    Event delta = next(lines);
                    assertThat(delta.name()).isEqualTo("delta");
                    Map<?, ?> s = sections(delta.data());
                    if (s.get("policies") instanceof Map<?, ?> p
                            && ((Map<?, ?>) p.get("d")).get("rate_limit") instanceof Map<?, ?> rl
                            && ((List<?>) rl.get("n")).get(1).equals(3)) {
                        decisions = rl;
                    }
                    if (s.get("cache") instanceof Map<?, ?> c && ((Map<?, ?>) c.get("all")).get("h").equals(3)) {
                        hits = c.get("all");
                    }
                }
                assertThat(decisions).as("a delta with the rate limit's three 429s").isNotNull();
                assertThat(((Map<?, ?>) decisions).get("n")).isEqualTo(List.of(2, 3, 0, 0));
                assertThat(hits).as("a delta with the cache's three hits").isNotNull();
                assertThat(((Map<?, ?>) hits).get("or")).as("hit ratio since start, %").isEqualTo(75);
            }
        } finally {
            cacheable.close();
        }
    }

    private int get(String path) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + path)).build(),
                BodyHandlers.discarding()).statusCode();
    }

    private static Map<?, ?> sections(String json) {
        return (Map<?, ?>) ((Map<?, ?>) new Load(LoadSettings.builder().build()).loadFromString(json)).get("sections");
    }

    @Test
    @Timeout(60)
    void manySubscribersEachGetTheStateAndTheDeltas() throws Exception {
        start();
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < 30; i++) {
                Socket s = new Socket("127.0.0.1", proxy.adminAddress().getPort());
                s.setSoTimeout(15_000);
                OutputStream out = s.getOutputStream();
                out.write("GET /events HTTP/1.1\r\nHost: admin\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                sockets.add(s);
            }
            for (Socket s : sockets) {
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                        StandardCharsets.UTF_8));
                boolean full = false;
                boolean delta = false;
                String line;
                while ((!full || !delta) && (line = in.readLine()) != null) {
                    full |= line.equals("event: full");
                    delta |= full && line.equals("event: delta");
                }
                assertThat(full && delta).as("a full state then a delta").isTrue();
            }
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    @Test
    @Timeout(10)
    void aSubscriberThatDoesNotReadIsSentNothingThenTheWholeStateOrIsDropped() {
        EmbeddedChannel slow = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
        EventStream stream = new EventStream(slow.eventLoop());
        stream.publish("{\"n\":0}", "{}");
        slow.runPendingTasks();
        stream.subscribe(slow.pipeline().firstContext());

        Object head = slow.readOutbound();
        assertThat(head).isInstanceOf(HttpResponse.class);
        assertThat(text(slow.readOutbound())).isEqualTo("retry: 2000\n\n");
        assertThat(text(slow.readOutbound())).isEqualTo("event: full\ndata: {\"n\":0}\n\n");
        stream.publish("{\"n\":1}", "{\"d\":1}");
        slow.runPendingTasks();
        assertThat(text(slow.readOutbound())).isEqualTo("event: delta\ndata: {\"d\":1}\n\n");
        assertThat(stream.size()).isEqualTo(1);

        // As if the client stopped reading and the admin channel's buffer passed its high water mark.
        slow.unsafe().outboundBuffer().setUserDefinedWritability(1, false);
        stream.publish("{\"n\":2}", "{\"d\":2}");
        slow.runPendingTasks();
        assertThat((Object) slow.readOutbound()).as("nothing more is buffered for it").isNull();
        assertThat(slow.isActive()).isTrue();
        // It reads again: having missed a delta, it gets the whole state.
        slow.unsafe().outboundBuffer().setUserDefinedWritability(1, true);
        stream.publish("{\"n\":3}", "{\"d\":3}");
        slow.runPendingTasks();
        assertThat(text(slow.readOutbound())).isEqualTo("event: full\ndata: {\"n\":3}\n\n");

        slow.unsafe().outboundBuffer().setUserDefinedWritability(1, false);
        for (int i = 0; i < EventStream.DROP_AFTER; i++) {
            assertThat(slow.isActive()).isTrue();
            stream.publish("{\"n\":4}", "{\"d\":4}");
            slow.runPendingTasks();
        }

        assertThat(slow.isActive()).isFalse();
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            slow.runPendingTasks();
            return stream.size() == 0;
        });
        assertThat(slow.finishAndReleaseAll()).isFalse();
    }

    private static String text(Object msg) {
        try {
            ByteBuf b = ((HttpContent) msg).content();
            return b.toString(StandardCharsets.UTF_8);
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }
}
