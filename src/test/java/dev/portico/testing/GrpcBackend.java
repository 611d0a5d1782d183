package dev.portico.testing;

import com.google.protobuf.ByteString;
import io.grpc.ForwardingServerCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.grpc.testing.protobuf.SimpleRequest;
import io.grpc.testing.protobuf.SimpleResponse;
import io.grpc.testing.protobuf.SimpleServiceGrpc;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real gRPC server (grpc-java, its own shaded Netty) serving {@code grpc.testing.SimpleService} on 127.0.0.1 port
 * 0, in cleartext (h2c) or TLS (h2), and client channels to reach it, or Portico, with. What each call does:
 * <ul>
 *   <li>Unary: answers {@code "hello " + requestMessage}; a request {@code "fail:CODE:message"} ends with that
 *       status instead. Every call's trailers carry {@value #TRAILER}{@code : present}.</li>
 *   <li>Client streaming: answers {@code "got N"} for N requests.</li>
 *   <li>Server streaming: a request {@code "COUNT:SIZE"} is answered by COUNT messages of SIZE bytes, sent only
 *       while the call is ready (gRPC flow control, so a client that stops reading stops the server);
 *       {@code "hold"} sends nothing and waits to be cancelled ({@link #cancelled()} counts those).</li>
 *   <li>Bidi streaming: echoes each request as it comes.</li>
 * </ul>
 */
public final class GrpcBackend implements AutoCloseable {
    /** The custom trailer every call ends with. */
    public static final String TRAILER = "x-backend-trailer";
    static final Metadata.Key<String> TRAILER_KEY = Metadata.Key.of(TRAILER, Metadata.ASCII_STRING_MARSHALLER);

    private final Server server;
    private final AtomicInteger cancelled = new AtomicInteger();
    private final AtomicInteger calls = new AtomicInteger();
    private final AtomicLong streamedBytes = new AtomicLong();

    private GrpcBackend(Path certificate, Path key) throws IOException {
        NettyServerBuilder b = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(ServerInterceptors.intercept(new Service(), new TrailerAdder()));
        if (certificate != null) {
            b.sslContext(GrpcSslContexts.forServer(certificate.toFile(), key.toFile()).build());
        }
        server = b.build().start();
    }

    /** @return a cleartext (h2c) gRPC server */
    public static GrpcBackend plaintext() throws IOException {
        return new GrpcBackend(null, null);
    }

    /** @return a TLS (h2, ALPN) gRPC server with this certificate chain and key (PEM files) */
    public static GrpcBackend tls(Path certificate, Path key) throws IOException {
        return new GrpcBackend(certificate, key);
    }

    public int port() {
        return server.getPort();
    }

    /** @return calls the server has seen start */
    public int calls() {
        return calls.get();
    }

    /** @return calls whose context the client's cancel reached */
    public int cancelled() {
        return cancelled.get();
    }

    /** @return bytes of server-streaming messages handed to gRPC so far */
    public long streamedBytes() {
        return streamedBytes.get();
    }

    /** @return a cleartext channel to {@code 127.0.0.1:port} (the backend, or Portico in front of it) */
    public static ManagedChannel channel(int port) {
        return NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    }

    /**
     * @param port where to connect
     * @param authority the name the server's certificate is for
     * @param ca the CA certificate (PEM) to trust
     * @return a TLS channel
     */
    public static ManagedChannel tlsChannel(int port, String authority, Path ca) throws IOException {
        return NettyChannelBuilder.forAddress("127.0.0.1", port).overrideAuthority(authority)
                .sslContext(GrpcSslContexts.forClient().trustManager(ca.toFile()).build()).build();
    }

    /** Shuts a channel down and waits for it. */
    public static void shutdown(ManagedChannel channel) throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private static SimpleResponse response(String text) {
        return SimpleResponse.newBuilder().setResponseMessage(text).build();
    }

    /** Adds {@link #TRAILER} to every call's trailers, whatever its status. */
    private final class TrailerAdder implements ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                          ServerCallHandler<Q, R> next) {
            calls.incrementAndGet();
            return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                @Override
                public void close(Status status, Metadata trailers) {
                    trailers.put(TRAILER_KEY, "present");
                    super.close(status, trailers);
                }
            }, headers);
        }
    }

    private final class Service extends SimpleServiceGrpc.SimpleServiceImplBase {
        @Override
        public void unaryRpc(SimpleRequest request, StreamObserver<SimpleResponse> out) {
            String m = request.getRequestMessage();
            if (m.startsWith("fail:")) {
                String[] parts = m.split(":", 3);
                out.onError(Status.fromCodeValue(Integer.parseInt(parts[1])).withDescription(parts[2])
                        .asRuntimeException());
                return;
            }
            out.onNext(response("hello " + m));
            out.onCompleted();
        }

        @Override
        public StreamObserver<SimpleRequest> clientStreamingRpc(StreamObserver<SimpleResponse> out) {
            return new StreamObserver<>() {
                private int n;

                @Override
                public void onNext(SimpleRequest value) {
                    n++;
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                    out.onNext(response("got " + n));
                    out.onCompleted();
                }
            };
        }

        @Override
        public void serverStreamingRpc(SimpleRequest request, StreamObserver<SimpleResponse> out) {
            ServerCallStreamObserver<SimpleResponse> call = (ServerCallStreamObserver<SimpleResponse>) out;
            call.setOnCancelHandler(cancelled::incrementAndGet);
            if (request.getRequestMessage().equals("hold")) {
                return;
            }
            String[] parts = request.getRequestMessage().split(":");
            int count = Integer.parseInt(parts[0]);
            ByteString payload = ByteString.copyFrom(new byte[Integer.parseInt(parts[1])]);
            int[] sent = {0};
            call.setOnReadyHandler(() -> {
                while (call.isReady() && sent[0] < count && !call.isCancelled()) {
                    sent[0]++;
                    streamedBytes.addAndGet(payload.size());
                    call.onNext(SimpleResponse.newBuilder().setResponseMessageBytes(payload).build());
                }
                if (sent[0] == count) {
                    sent[0]++;
                    call.onCompleted();
                }
            });
        }

        @Override
        public StreamObserver<SimpleRequest> bidiStreamingRpc(StreamObserver<SimpleResponse> out) {
            return new StreamObserver<>() {
                @Override
                public void onNext(SimpleRequest value) {
                    out.onNext(response("echo " + value.getRequestMessage()));
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                    out.onCompleted();
                }
            };
        }
    }
}
