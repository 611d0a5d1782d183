package dev.portico.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.config.UpstreamConfig;
import dev.portico.testing.GrpcBackend;
import dev.portico.testing.PorticoExtension;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.grpc.testing.protobuf.SimpleRequest;
import io.grpc.testing.protobuf.SimpleResponse;
import io.grpc.testing.protobuf.SimpleServiceGrpc;
import io.grpc.CallOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** grpc-java client to an h2c listener, through Portico, to a grpc-java server as an h2c upstream. */
@Timeout(120)
class GrpcProxyTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private GrpcBackend backend;
    private ManagedChannel channel;

    private static SimpleRequest request(String text) {
        return SimpleRequest.newBuilder().setRequestMessage(text).build();
    }

    private SimpleServiceGrpc.SimpleServiceBlockingStub start() throws Exception {
        backend = GrpcBackend.plaintext();
        UpstreamConfig up = UpstreamConfig.builder("grpc").servers("http://127.0.0.1:" + backend.port())
                .protocol(UpstreamConfig.Protocol.H2C).build();
        portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                .route("/", r -> r.upstream(up)).build());
        channel = GrpcBackend.channel(portico.port());
        return SimpleServiceGrpc.newBlockingStub(channel);
    }

    @AfterEach
    void stop() throws Exception {
        if (channel != null) {
            GrpcBackend.shutdown(channel);
        }
        if (backend != null) {
            backend.close();
        }
    }

    @Test
    void unaryCallsGetTheirAnswerAndTheBackendsTrailers() throws Exception {
        AtomicReference<Metadata> trailers = new AtomicReference<>();
        var stub = start().withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(new AtomicReference<>(),
                trailers));
        assertThat(stub.unaryRpc(request("portico")).getResponseMessage()).isEqualTo("hello portico");
        assertThat(trailers.get().get(Metadata.Key.of(GrpcBackend.TRAILER, Metadata.ASCII_STRING_MARSHALLER)))
                .isEqualTo("present");
    }

    @Test
    void aFailedCallKeepsItsStatusMessageAndCustomTrailers() throws Exception {
        AtomicReference<Metadata> trailers = new AtomicReference<>();
        var stub = start().withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(new AtomicReference<>(),
                trailers));
        assertThatThrownBy(() -> stub.unaryRpc(request("fail:3:no such order")))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).as(e.getStatus().toString())
                            .isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).isEqualTo("no such order");
                });
        assertThat(trailers.get().get(Metadata.Key.of(GrpcBackend.TRAILER, Metadata.ASCII_STRING_MARSHALLER)))
                .isEqualTo("present");
    }

    @Test
    void clientStreamingSendsEveryMessage() throws Exception {
        start();
        CompletableFuture<String> answer = new CompletableFuture<>();
        StreamObserver<SimpleRequest> out = SimpleServiceGrpc.newStub(channel).clientStreamingRpc(observer(answer));
        for (int i = 0; i < 100; i++) {
            out.onNext(request("m" + i));
        }
        out.onCompleted();
        assertThat(answer.get(20, TimeUnit.SECONDS)).isEqualTo("got 100");
    }

    @Test
    void serverStreamingDeliversEveryMessage() throws Exception {
        var stub = start();
        List<SimpleResponse> got = new ArrayList<>();
        stub.serverStreamingRpc(request("50:100")).forEachRemaining(got::add);
        assertThat(got).hasSize(50).allMatch(r -> r.getResponseMessageBytes().size() == 100);
    }

    @Test
    void bidiStreamingEchoesAsMessagesCome() throws Exception {
        start();
        List<String> echoes = new java.util.concurrent.CopyOnWriteArrayList<>();
        CompletableFuture<String> done = new CompletableFuture<>();
        StreamObserver<SimpleRequest> out = SimpleServiceGrpc.newStub(channel).bidiStreamingRpc(
                new StreamObserver<>() {
                    @Override
                    public void onNext(SimpleResponse value) {
                        echoes.add(value.getResponseMessage());
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        done.complete("done");
                    }
                });
        out.onNext(request("one"));
        // The echo of the first arrives while the call is still open: messages are relayed, not collected.
        await().atMost(Duration.ofSeconds(10)).until(() -> echoes.size() == 1);
        out.onNext(request("two"));
        out.onNext(request("three"));
        out.onCompleted();
        assertThat(done.get(20, TimeUnit.SECONDS)).isEqualTo("done");
        assertThat(echoes).containsExactly("echo one", "echo two", "echo three");
    }

    @Test
    void aTwentyMebibyteServerStreamFollowsTheClientsPace() throws Exception {
        start();
        int count = 320;
        int size = 64 * 1024;
        AtomicLong received = new AtomicLong();
        AtomicReference<ClientCallStreamObserver<SimpleRequest>> call = new AtomicReference<>();
        CompletableFuture<String> done = new CompletableFuture<>();
        ClientResponseObserver<SimpleRequest, SimpleResponse> reader = new ClientResponseObserver<>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<SimpleRequest> requestStream) {
                call.set(requestStream);
                requestStream.disableAutoRequestWithInitial(1); // one message, then the client stops reading
            }

            @Override
            public void onNext(SimpleResponse value) {
                received.addAndGet(value.getResponseMessageBytes().size());
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                done.complete("done");
            }
        };
        SimpleServiceGrpc.newStub(channel).serverStreamingRpc(request(count + ":" + size), reader);
        await().pollDelay(Duration.ofMillis(500)).atMost(Duration.ofSeconds(20)).until(() -> {
            long before = backend.streamedBytes();
            Thread.sleep(300);
            return backend.streamedBytes() == before;
        });
        // The server stalls with a few windows in flight (its own, Portico's two sides, the client's), never 20 MiB.
        assertThat(backend.streamedBytes()).isLessThan(8L * 1024 * 1024);
        call.get().request(Integer.MAX_VALUE);
        assertThat(done.get(60, TimeUnit.SECONDS)).isEqualTo("done");
        assertThat(received.get()).isEqualTo((long) count * size);
    }

    @Test
    void aClientCancelReachesTheServer() throws Exception {
        start();
        ClientCall<SimpleRequest, SimpleResponse> call = channel.newCall(
                SimpleServiceGrpc.getServerStreamingRpcMethod(), CallOptions.DEFAULT);
        CompletableFuture<Status> closed = new CompletableFuture<>();
        ClientCalls.asyncServerStreamingCall(call, request("hold"), new StreamObserver<>() {
            @Override
            public void onNext(SimpleResponse value) {
            }

            @Override
            public void onError(Throwable t) {
                closed.complete(Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                closed.complete(Status.OK);
            }
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> backend.calls() == 1);
        call.cancel("the user closed the page", null);
        await().atMost(Duration.ofSeconds(10)).until(() -> backend.cancelled() == 1);
        assertThat(closed.get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.CANCELLED);
    }

    private static StreamObserver<SimpleResponse> observer(CompletableFuture<String> answer) {
        return new StreamObserver<>() {
            @Override
            public void onNext(SimpleResponse value) {
                answer.complete(value.getResponseMessage());
            }

            @Override
            public void onError(Throwable t) {
                answer.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
            }
        };
    }
}
